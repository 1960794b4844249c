import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import type { ApprovalService } from '../approvals/approval-service.js'
import { requestView } from '../approvals/request-view.js'
import type { Principal } from '../auth/principal.js'
import type { Clock } from '../clock.js'
import { AirlockError, AuthError } from '../errors.js'
import { APPROVER_GRANT_ID } from '../policy/approver-grant.js'
import { grantMatchesIdentity } from '../policy/grant-matches.js'
import type { Policy } from '../policy/policy.js'
import { readBody } from '../mcp/read-body.js'

export interface ApprovalRoutesOptions {
  readonly service: ApprovalService
  readonly policy: () => Policy
  /** The gateway's own token verification: the approver signs in with the same OIDC provider. */
  readonly authenticate: (authorization: string | undefined) => Promise<Principal>
  readonly clock: Clock
  readonly logError: (message: string, error: unknown) => void
}

const MAX_BODY_BYTES = 8 * 1024
const decisionBody = z.strictObject({ reason: z.string().trim().min(1).max(500) })
const DECIDE_PATH = /^\/approvals\/requests\/([A-Za-z0-9_-]{1,64})\/(approve|deny)$/

// Fixed statuses and texts per code: the caller learns the refusal, never a token or a stack.
export const APPROVAL_REFUSALS: Readonly<Record<string, readonly [number, string]>> = {
  INPUT_INVALID: [400, 'The request body needs a non-empty "reason" (at most 500 characters).'],
  SELF_APPROVAL: [403, 'Nobody may approve or deny their own request.'],
  NOT_APPROVER: [403, 'You are not in an approver group of this request.'],
  REQUEST_NOT_FOUND: [404, 'There is no such approval request for you to review.'],
  REQUEST_NOT_PENDING: [409, 'This request is no longer pending (decided, used or expired).'],
  STATE_UNAVAILABLE: [503, 'The state store is unavailable; retry shortly.'],
  AUDIT_UNAVAILABLE: [503, 'The decision could not be recorded in the audit trail; retry shortly.'],
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)), ...headers })
  res.end(text)
}

/**
 * The admin API for approvers (the CLI's `airlock approvals`): `GET /approvals/requests` and
 * `POST /approvals/requests/<id>/approve|deny` with `{"reason": …}`, each authenticated with the
 * approver's own OIDC bearer token and allowed only to members of an approver group. Returns
 * false when the path is not one of these.
 */
export function createApprovalRoutes(options: ApprovalRoutesOptions): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> {
  async function approver(req: IncomingMessage, res: ServerResponse, policy: Policy): Promise<Principal | undefined> {
    let principal: Principal
    try {
      principal = await options.authenticate(req.headers.authorization)
    } catch (error) {
      if (!(error instanceof AuthError)) throw error
      sendJson(res, 401, { error: 'unauthorized', error_description: 'A valid bearer token from the gateway\'s identity provider is required.' }, { 'www-authenticate': 'Bearer' })
      return undefined
    }
    const grant = policy.grants.find((g) => g.id === APPROVER_GRANT_ID)
    if (grant === undefined || !grantMatchesIdentity(grant, principal)) {
      sendJson(res, 403, { error: 'forbidden', error_description: 'You are not in any approver group.' })
      return undefined
    }
    return principal
  }

  return async function approvalRoute(req, res, path) {
    const decide = DECIDE_PATH.exec(path)
    if (path !== '/approvals/requests' && decide === null) return false
    const method = decide === null ? 'GET' : 'POST'
    if (req.method !== method) {
      sendJson(res, 405, { error: 'method_not_allowed' }, { allow: method })
      return true
    }
    const policy = options.policy()
    const principal = await approver(req, res, policy)
    if (principal === undefined) return true
    try {
      if (decide === null) {
        const now = options.clock.now()
        const requests = (await options.service.list(principal, policy)).map((r) => requestView(r, now))
        sendJson(res, 200, { requests })
        return true
      }
      const body = await readBody(req, MAX_BODY_BYTES)
      let parsed: z.ZodSafeParseResult<z.infer<typeof decisionBody>> | undefined
      try {
        parsed = body.ok ? decisionBody.safeParse(JSON.parse(body.text)) : undefined
      } catch {
        parsed = undefined
      }
      if (parsed === undefined || !parsed.success) {
        const [status, text] = APPROVAL_REFUSALS.INPUT_INVALID ?? [400, 'invalid']
        sendJson(res, status, { error: 'INPUT_INVALID', error_description: text })
        return true
      }
      const [, id = '', verdict] = decide
      const record = await options.service.decide(principal, policy, id, verdict === 'approve' ? 'approve' : 'deny', parsed.data.reason)
      sendJson(res, 200, { request: requestView(record, options.clock.now()) })
      return true
    } catch (error) {
      const code = error instanceof AirlockError ? error.code : 'INTERNAL'
      const known = APPROVAL_REFUSALS[code]
      if (known === undefined) throw error
      if (known[0] === 503) options.logError(`approval ${path} failed`, error)
      sendJson(res, known[0], { error: code, error_description: known[1] })
      return true
    }
  }
}
