import type { IncomingMessage, ServerResponse } from 'node:http'
import { classifyInboundRequest } from '@modelcontextprotocol/server'
import { z } from 'zod'
import type { Principal } from '../auth/principal.js'
import type { Clock } from '../clock.js'
import { AuthError, StateError } from '../errors.js'
import type { GatewayMetrics } from '../metrics/gateway-metrics.js'
import type { Policy } from '../policy/policy.js'
import { STATE_RETRY_AFTER_SECONDS, type StateHealth } from '../state/state-health.js'
import { callsTool, stateUnavailable } from './state-unavailable.js'
import type { AuditSampling } from './audit-sampling.js'
import type { ClientAddress } from './client-address.js'
import { findBearerConflict } from './find-bearer-conflict.js'
import type { LegacyLane } from './legacy-lane.js'
import { readBody } from './read-body.js'
import { createScopeGate } from './scope-gate.js'
import { jsonRpcError, sendJson } from './send-json.js'
import { standardHeaderConflict } from './standard-header-conflict.js'
import type { UnauthenticatedLimiter } from './unauthenticated-limiter.js'
import { namesMethod } from './names-method.js'

export const MAX_BODY_BYTES = 1024 * 1024

/** What `/healthz` reports; `reason` is a fixed code such as `audit_unavailable`, never internal detail. */
export interface GatewayHealth {
  readonly ok: boolean
  readonly reason?: string
}

export interface HttpGatewayOptions {
  /** The RFC 9728 document, built per request: its `scopes_supported` follows policy reloads. */
  readonly resourceMetadata: () => Record<string, unknown>
  /**
   * The policy in force; read once per POST that is served (never for GET or DELETE), and that
   * snapshot decides the whole request: scope check, a new session's ttl, tools/list, tools/call.
   */
  readonly policy: () => Policy
  readonly allowedHosts: ReadonlySet<string>
  readonly allowedOrigins: ReadonlySet<string>
  readonly authenticate: (authorization: string | undefined) => Promise<Principal>
  /** `WWW-Authenticate` value and one-line JSON body for a refused token; `scope` names the scopes to ask for. */
  readonly challenge: (error: AuthError | undefined, scope?: string) => { header: string; body: Record<string, unknown> }
  /** The 2025 lane: sessions opened by initialize and named by `Mcp-Session-Id`. */
  readonly legacy: LegacyLane
  /** Records refused tokens, and calls refused for want of a scope, at a bounded rate. */
  readonly sampling: Pick<AuditSampling, 'authFailure' | 'denial'>
  readonly clock: Clock
  readonly logError: (message: string, error: unknown) => void
  readonly metrics: GatewayMetrics
  /** Who a request comes from (limits and audit records). */
  readonly clientAddress: ClientAddress
  /** Refuses addresses that keep failing authentication (429) before their tokens are looked at. */
  readonly limiter?: UnauthenticatedLimiter
  /** Told once when an address has used its allowance of failed authentications. */
  readonly onAddressThrottled?: (address: string) => void
  /** Readiness of what the gateway depends on (the audit log); absent means always healthy. */
  readonly health?: () => GatewayHealth
  /**
   * Whether calls can be decided with the state store (activations, limits) now. A request that
   * carries a tools/call is refused with 503 + Retry-After while it cannot, before anything runs.
   */
  readonly stateHealth: StateHealth
  /**
   * Serves one 2026-07-28 (stateless, per-request `_meta` envelope) request, authenticated as
   * `principal`; the SDK's modern entry checks the standard headers against the body.
   */
  readonly serveModern: (req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal, policy: Policy) => Promise<void>
}

const METADATA_PATHS = new Set(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'])
const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID'
const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate, Retry-After'
/** JSON-RPC code of the 2026-07-28 revision for standard headers that disagree with the body. */
const HEADER_MISMATCH = -32020
const HEALTH_REASON = /^[a-z][a-z0-9_]{0,63}$/

type Cors = Record<string, string>

// Loose: a client's message; only the id it names is read.
const cancelledNotificationSchema = z.object({
  method: z.literal('notifications/cancelled'),
  params: z.object({ requestId: z.union([z.string(), z.number()]).optional() }),
})

/** JSON-RPC ids named by notifications/cancelled messages in a request body. */
function cancelledRequestIds(body: unknown): (string | number)[] {
  const ids: (string | number)[] = []
  for (const message of Array.isArray(body) ? body : [body]) {
    if (!namesMethod(message, 'notifications/cancelled')) continue
    const parsed = cancelledNotificationSchema.safeParse(message)
    const requestId = parsed.success ? parsed.data.params.requestId : undefined
    if (requestId !== undefined) ids.push(requestId)
  }
  return ids
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * Whether a POST belongs to the 2025 lane (initialize + Mcp-Session-Id), by the SDK's own
 * classification (the same code `createMcpHandler` routes with). Everything else, including
 * requests whose standard headers disagree with the body, goes to the modern entry, which owns
 * those refusals.
 */
function isLegacyPost(req: IncomingMessage, body: unknown): boolean {
  const protocolVersionHeader = headerValue(req, 'mcp-protocol-version')
  const mcpMethodHeader = headerValue(req, 'mcp-method')
  const mcpNameHeader = headerValue(req, 'mcp-name')
  const outcome = classifyInboundRequest({
    httpMethod: 'POST',
    body,
    ...(protocolVersionHeader === undefined ? {} : { protocolVersionHeader }),
    ...(mcpMethodHeader === undefined ? {} : { mcpMethodHeader }),
    ...(mcpNameHeader === undefined ? {} : { mcpNameHeader }),
  })
  return outcome.kind === 'legacy'
}

/** The gateway's HTTP surface: RFC 9728 metadata, `/healthz`, and `/mcp` behind Host/Origin checks, a body cap and bearer auth. */
export function createHttpGateway(options: HttpGatewayOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const scopeGate = createScopeGate({ challenge: options.challenge, denials: options.sampling, logError: options.logError })

  /** DNS-rebinding and cross-site defence (403); the CORS headers for an allowed origin otherwise. */
  function admitHostAndOrigin(req: IncomingMessage, res: ServerResponse): Cors | undefined {
    const host = req.headers.host
    if (host === undefined || !options.allowedHosts.has(host.toLowerCase())) {
      sendJson(res, 403, { error: 'forbidden', error_description: 'Host not allowed' })
      return undefined
    }
    const origin = req.headers.origin
    if (origin === undefined) return {}
    if (!options.allowedOrigins.has(origin)) {
      sendJson(res, 403, { error: 'forbidden', error_description: 'Origin not allowed' })
      return undefined
    }
    return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': CORS_EXPOSE_HEADERS }
  }

  function answerPreflight(res: ServerResponse, cors: Cors): void {
    res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS', 'access-control-allow-headers': CORS_ALLOW_HEADERS, 'access-control-max-age': '600' })
    res.end()
  }

  /**
   * 429 with Retry-After when the client's address has run out of failed authentications: no
   * token parsing, signature check or key fetch is spent on it.
   */
  function throttled(req: IncomingMessage, res: ServerResponse, cors: Cors, client: string): boolean {
    const refusal = options.limiter?.refusal(client)
    if (refusal === undefined) return false
    options.metrics.rateLimited('unauthenticated')
    req.resume()
    sendJson(res, 429, { error: 'too_many_requests', error_description: 'Too many requests without valid credentials from this address; retry later.' }, { 'retry-after': String(refusal.retryAfterSeconds), ...cors })
    return true
  }

  /**
   * The verified principal, or undefined once a refusal (400 for a token in more than one place,
   * 401, or 503 while the IdP is down) is sent and sampled into the audit.
   */
  async function authenticateRequest(req: IncomingMessage, res: ServerResponse, cors: Cors, client: string): Promise<Principal | undefined> {
    const conflict = findBearerConflict(req)
    if (conflict !== undefined) {
      // RFC 6750 §3.1: decided before any token is verified, so neither one is trusted.
      const error = new AuthError('AUTH_INVALID', 'multiple_tokens', `bearer token in more than one place (${conflict})`)
      options.metrics.authFailure(error.failure)
      if (options.limiter?.failed(client) === true) options.onAddressThrottled?.(client)
      await options.sampling.authFailure(client, { type: 'auth.failure', code: error.code, reason: error.failure, client, detail: { conflict } })
      const { header, body } = options.challenge(error)
      sendJson(res, 400, body, { 'www-authenticate': header, ...cors })
      return undefined
    }
    try {
      return await options.authenticate(req.headers.authorization)
    } catch (error) {
      if (!(error instanceof AuthError)) throw error
      options.metrics.authFailure(error.failure)
      // An unreachable IdP is the gateway's trouble, not the client's: it does not count against the address.
      if (error.failure !== 'issuer_unavailable' && options.limiter?.failed(client) === true) options.onAddressThrottled?.(client)
      await options.sampling.authFailure(client, { type: 'auth.failure', code: error.code, reason: error.failure, client })
      if (error.failure === 'issuer_unavailable') {
        // Refused (fail closed), but not as invalid_token: the token may be fine and clients should retry, not discard it.
        sendJson(res, 503, { error: 'temporarily_unavailable', error_description: 'The identity provider cannot be reached to verify tokens; retry shortly.' }, { 'retry-after': String(error.retryAfterSeconds ?? 5), ...cors })
        return undefined
      }
      // A valid token without the scopes every request needs: 403 naming them (RFC 6750 §3.1).
      const forbidden = error.code === 'AUTH_FORBIDDEN'
      const { header, body } = options.challenge(error, forbidden ? error.scope : undefined)
      sendJson(res, forbidden ? 403 : 401, body, { 'www-authenticate': header, ...cors })
      return undefined
    }
  }

  function allowMethod(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method === 'POST' || req.method === 'GET' || req.method === 'DELETE') return true
    res.setHeader('allow', 'GET, POST, DELETE, OPTIONS')
    jsonRpcError(res, 405, -32000, 'Method not allowed.')
    return false
  }

  /** The parsed JSON body (413 past the cap, 400 when it is not JSON). */
  async function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<{ readonly body: unknown } | undefined> {
    const read = await readBody(req, MAX_BODY_BYTES)
    if (!read.ok) {
      jsonRpcError(res, 413, -32000, `Request body exceeds ${MAX_BODY_BYTES} bytes.`)
      req.resume()
      return undefined
    }
    try {
      return { body: JSON.parse(read.text) }
    } catch {
      jsonRpcError(res, 400, -32700, 'Parse error: invalid JSON.')
      return undefined
    }
  }

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = admitHostAndOrigin(req, res)
    if (cors === undefined) return
    if (req.method === 'OPTIONS') return answerPreflight(res, cors)
    const client = options.clientAddress(req)
    if (throttled(req, res, cors, client)) return
    const principal = await authenticateRequest(req, res, cors, client)
    if (principal === undefined) return
    for (const [key, value] of Object.entries(cors)) res.setHeader(key, value)
    if (!allowMethod(req, res)) return
    const parsed = req.method === 'POST' ? await readJsonBody(req, res) : { body: undefined }
    if (parsed === undefined) return
    if (req.method === 'POST' && callsTool(parsed.body)) {
      // Fail closed before any lane runs: no call is decided without activations and limits.
      const status = await options.stateHealth.check()
      if (!status.ok) return stateUnavailable(res, status.retryAfterSeconds)
    }
    const header = req.headers['mcp-session-id']
    if (req.method === 'POST' && !isLegacyPost(req, parsed.body)) {
      // 2026-07-28 has no protocol sessions: a session id on a modern request is a confused or
      // smuggling client, never a reason to reach the 2025 lane's session state.
      if (header !== undefined) return jsonRpcError(res, 400, -32600, 'Bad Request: a 2026-07-28 request must not carry Mcp-Session-Id.')
      const policy = options.policy()
      if (await scopeGate(req, res, principal, policy, parsed.body, undefined)) return
      return options.serveModern(req, res, parsed.body, principal, policy)
    }
    const conflict = req.method === 'POST' ? standardHeaderConflict(req, parsed.body) : undefined
    if (conflict !== undefined) return jsonRpcError(res, 400, HEADER_MISMATCH, `Bad Request: ${conflict}.`)
    // One policy snapshot per POST: the session's expiry, the scope check and the call all read it.
    const policy = req.method === 'POST' ? options.policy() : undefined
    if (header === undefined) return options.legacy.start(req, res, principal, parsed.body, policy)
    return options.legacy.continue(req, res, principal, parsed.body, Array.isArray(header) ? (header[0] ?? '') : header, {
      cancelIds: cancelledRequestIds(parsed.body),
      policy,
      admit: (snapshot, idHash) => scopeGate(req, res, principal, snapshot, parsed.body, idHash),
    })
  }

  /** 200 while healthy; 503 with a fixed reason code otherwise (a failing or throwing check reads as unavailable). */
  function answerHealth(res: ServerResponse): void {
    let health: GatewayHealth
    try {
      health = options.health?.() ?? { ok: true }
    } catch (error) {
      options.logError('health check failed', error)
      health = { ok: false }
    }
    if (health.ok) return sendJson(res, 200, { status: 'ok' })
    const reason = health.reason !== undefined && HEALTH_REASON.test(health.reason) ? health.reason : 'unavailable'
    sendJson(res, 503, { status: 'unavailable', reason })
  }

  return function gateway(req, res) {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if (METADATA_PATHS.has(path) && (req.method === 'GET' || req.method === 'HEAD')) {
      return sendJson(res, 200, options.resourceMetadata(), { 'access-control-allow-origin': '*' })
    }
    if (path === '/healthz' && req.method === 'GET') return answerHealth(res)
    if (path !== '/mcp') return sendJson(res, 404, { error: 'not_found' })
    handleMcp(req, res).catch((error: unknown) => {
      // A StateError fails closed: no replica decides about a session or a limit without the shared state.
      options.logError(error instanceof StateError ? 'request refused: the state store is unavailable' : 'request failed', error)
      if (res.headersSent) res.end()
      else if (error instanceof StateError) stateUnavailable(res, STATE_RETRY_AFTER_SECONDS)
      else jsonRpcError(res, 500, -32603, 'Internal error.')
    })
  }
}
