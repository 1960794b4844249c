import { ProtocolError, ProtocolErrorCode, Server } from '@modelcontextprotocol/server'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv'
import type { Principal } from '../auth/principal.js'
import type { AuditSink } from '../audit/audit-event.js'
import type { Clock } from '../clock.js'
import type { Policy } from '../policy/policy.js'
import type { CallSession, ToolCaller } from './call-tool.js'
import type { ToolCatalog } from './tool-catalog.js'
import { unwrapArguments } from './wrap-non-object-arguments.js'

export const SERVER_INFO = { name: 'airlock', title: 'Airlock', version: '0.1.0' } as const

const INSTRUCTIONS =
  'Airlock gives you policy-scoped access to infrastructure. Call list_connections to see what you may reach ' +
  'and with which limits, and whoami for your identity and when your access through each grant ends (it starts at ' +
  'your first call under the grant). Denials stand unless the policy changes; errors carry a code and a correlation id.'

export interface SessionServerOptions {
  readonly catalog: ToolCatalog
  readonly caller: ToolCaller
  /** The principal verified for the HTTP request this server serves. */
  readonly principal: Principal
  /** The policy snapshot taken for this HTTP request: tools/list and tools/call decide against it. */
  readonly policy: Policy
  readonly clock: Clock
  readonly audit: AuditSink
  readonly session: CallSession
  /**
   * In-flight tools/call requests of the session by JSON-RPC id, for notifications/cancelled (2025
   * lane). Absent on 2026-07-28, where closing the response is the only cancellation.
   */
  readonly inflight?: Map<string, AbortController>
  /** The key under which this request's body carries non-object `arguments` (see wrapNonObjectArguments); none when nothing was wrapped. */
  readonly argumentsKey: string | undefined
  readonly logError: (message: string, error: unknown) => void
}

// A server is built per request; left alone, each would compile its own Ajv instance.
const sharedValidator = new AjvJsonSchemaValidator()

/**
 * A low-level MCP server for one HTTP request of a session: tools/list and tools/call are computed
 * for the principal and against the policy snapshot of that request.
 */
export function createSessionServer(options: SessionServerOptions): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    instructions: INSTRUCTIONS,
    jsonSchemaValidator: sharedValidator,
    // 2026-07-28 lists carry cache hints: a caller's tool list is computed for that caller and
    // must never be served to anyone else, nor reused after a policy reload.
    cacheHints: { 'tools/list': { ttlMs: 0, cacheScope: 'private' } },
  })

  const { principal, policy } = options

  server.setRequestHandler('tools/list', async () => {
    try {
      const tools = options.catalog.list(policy, principal, options.clock.now())
      await options.audit.write({
        type: 'tools.list',
        actor: { iss: principal.issuer, sub: principal.subject, groups: principal.groups },
        ...(options.session.idHash === undefined ? {} : { session: options.session.idHash }),
        policyFingerprint: policy.fingerprint,
        detail: { tools: tools.map((t) => t.name) },
      })
      return { tools }
    } catch (error) {
      // The SDK would send error.message to the client; it may name files or internals.
      options.logError('tools/list failed', error)
      throw new ProtocolError(ProtocolErrorCode.InternalError, 'The gateway could not list tools (nothing was recorded in the audit trail).')
    }
  })

  server.setRequestHandler('tools/call', async (request, ctx) => {
    const progressToken = request.params._meta?.progressToken
    // 2025 lane: cancellation arrives as a separate HTTP request (served by another server instance),
    // so the session keeps the controller. Both lanes: a closed response aborts through ctx.mcpReq.signal
    // (on 2026-07-28 closing the response stream is the cancellation).
    const call = callSignal(options.inflight, String(ctx.mcpReq.id), ctx.mcpReq.signal)
    try {
      return await options.caller({
        principal,
        policy,
        session: options.session,
        name: request.params.name,
        rawArgs: unwrapArguments(request.params.arguments, options.argumentsKey),
        signal: call.signal,
        wantsProgress: progressToken !== undefined,
        progress: async (update) => {
          if (progressToken === undefined) return
          try {
            await ctx.mcpReq.notify({
              method: 'notifications/progress',
              params: { progressToken, progress: update.progress, ...(update.total === undefined ? {} : { total: update.total }), ...(update.message === undefined ? {} : { message: update.message }) },
            })
          } catch (error) {
            options.logError('progress notification failed', error)
          }
        },
      })
    } finally {
      call.release()
    }
  })

  return server
}

/**
 * A call's signal: the request's own, and on the 2025 lane (with `inflight`) also a controller
 * that notifications/cancelled finds by JSON-RPC id. `release` forgets the call when it ends.
 */
function callSignal(inflight: Map<string, AbortController> | undefined, key: string, request: AbortSignal): { signal: AbortSignal; release: () => void } {
  if (inflight === undefined) return { signal: request, release: () => undefined }
  const cancel = new AbortController()
  // The request's abort is passed on by hand: AbortSignal.any costs some 20 µs a call on Node 20.
  const passOn = (): void => cancel.abort(request.reason)
  inflight.set(key, cancel)
  if (request.aborted) passOn()
  else request.addEventListener('abort', passOn, { once: true })
  return {
    signal: cancel.signal,
    release: () => {
      inflight.delete(key)
      request.removeEventListener('abort', passOn)
    },
  }
}
