import { requestLine, type RequestView } from '../approvals/request-view.js'
import type { CliCommand, CliIo } from './cli-io.js'
import { COMMAND_USAGE } from './command-usage.js'
import { parseFlags, USAGE_ERROR } from './parse-flags.js'

export interface ApprovalsCommandDeps {
  readonly fetch?: typeof fetch
}

function usage(io: CliIo): number {
  io.stderr(`${COMMAND_USAGE.approvals}\n`)
  return USAGE_ERROR
}

interface ApiAnswer {
  readonly status: number
  readonly body: Record<string, unknown>
}

/**
 * `airlock approvals list|approve|deny`: an approver reviews requests through a running gateway's
 * admin API, signed in as themselves (their bearer token). Exit 0 when done, 1 with one line when
 * the gateway refuses (not an approver, own request, no longer pending…), 2 on usage errors.
 */
export function createApprovalsCommand(deps: ApprovalsCommandDeps = {}): CliCommand {
  const fetchFn = deps.fetch ?? fetch
  return async function approvalsCommand(argv, io) {
    const parsed = parseFlags(argv, { admin: { type: 'string' }, reason: { type: 'string' } }, 'approvals', io)
    if (parsed === undefined) return USAGE_ERROR
    const [sub, id, ...extra] = parsed.positionals
    const admin = parsed.values.admin ?? io.env.AIRLOCK_ADMIN_URL
    const token = io.env.AIRLOCK_TOKEN?.trim()
    if (extra.length > 0 || admin === undefined || admin === '') return usage(io)
    if (token === undefined || token === '') {
      io.stderr('airlock approvals: set AIRLOCK_TOKEN to your access token\n')
      return 2
    }
    let base: URL
    try {
      base = new URL(admin)
    } catch {
      return usage(io)
    }
    async function call(path: string, body?: unknown): Promise<ApiAnswer | undefined> {
      try {
        const response = await fetchFn(new URL(path, base), {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        const parsedBody: unknown = await response.json().catch(() => ({}))
        return { status: response.status, body: typeof parsedBody === 'object' && parsedBody !== null ? (parsedBody as Record<string, unknown>) : {} }
      } catch {
        io.stderr(`airlock approvals: could not reach ${base.origin}\n`)
        return undefined
      }
    }
    function refused(answer: ApiAnswer): number {
      const code = typeof answer.body.error === 'string' ? answer.body.error : `HTTP ${answer.status}`
      const text = typeof answer.body.error_description === 'string' ? ` ${answer.body.error_description}` : ''
      io.stderr(`airlock approvals: refused (${code}).${text}\n`)
      return 1
    }

    if (sub === 'list' && id === undefined && parsed.values.reason === undefined) {
      const answer = await call('/approvals/requests')
      if (answer === undefined) return 1
      if (answer.status !== 200) return refused(answer)
      const requests = Array.isArray(answer.body.requests) ? (answer.body.requests as RequestView[]) : []
      io.stdout(requests.length === 0 ? 'No pending requests for you to review.\n' : `${requests.map(requestLine).join('\n')}\n`)
      return 0
    }
    if ((sub === 'approve' || sub === 'deny') && id !== undefined) {
      const reason = parsed.values.reason
      if (reason === undefined || reason.trim() === '') {
        io.stderr(`airlock approvals ${sub}: --reason is required\n`)
        return 2
      }
      const answer = await call(`/approvals/requests/${encodeURIComponent(id)}/${sub}`, { reason })
      if (answer === undefined) return 1
      if (answer.status !== 200) return refused(answer)
      const view = answer.body.request as RequestView | undefined
      io.stdout(`${sub === 'approve' ? 'Approved' : 'Denied'}: ${view === undefined ? id : requestLine(view)}\n`)
      return 0
    }
    return usage(io)
  }
}
