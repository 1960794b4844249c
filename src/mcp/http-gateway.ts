import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CancelledNotificationSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import type { Principal } from '../auth/principal.js'
import type { AuditSink } from '../audit/audit-event.js'
import { hashSessionId } from '../audit/hash-session-id.js'
import type { Clock } from '../clock.js'
import { AuthError } from '../errors.js'
import type { SessionRecord, SessionRegistry } from './session-registry.js'
import { createAuthFailureSampler } from './auth-failure-sampler.js'
import type { PrincipalBinding } from './principal-binding.js'
import { readBody } from './read-body.js'

export const MAX_BODY_BYTES = 1024 * 1024

/**
 * A session as the gateway keeps it: a few hundred bytes. Each HTTP request is served by a fresh
 * MCP server (see createGateway), so no SDK state lives between requests.
 */
export interface GatewaySession {
  /** Serves one authenticated HTTP request of this session. */
  serve(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void>
  /** Aborts the in-flight request with this JSON-RPC id (notifications/cancelled). */
  cancel(requestId: string | number): void
  close(): Promise<void>
}

export interface HttpGatewayOptions {
  /** Canonical MCP endpoint URL (the protected resource). */
  readonly resource: string
  readonly resourceMetadata: Record<string, unknown>
  readonly allowedHosts: ReadonlySet<string>
  readonly allowedOrigins: ReadonlySet<string>
  readonly authenticate: (authorization: string | undefined) => Promise<Principal>
  /** `WWW-Authenticate` value and one-line JSON body for a refused token. */
  readonly challenge: (error: AuthError | undefined) => { header: string; body: Record<string, unknown> }
  readonly sessions: SessionRegistry<GatewaySession>
  /** Creates the record of a new session bound to `principal`. */
  readonly openSession: (id: string, idHash: string, principal: Principal) => Promise<SessionRecord<GatewaySession>>
  readonly principals: PrincipalBinding
  readonly audit: AuditSink
  readonly clock: Clock
  readonly logError: (message: string, error: unknown) => void
}

const METADATA_PATHS = new Set(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'])
const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID'
const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate'

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
  res.end(text)
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null })
}

/** JSON-RPC ids named by notifications/cancelled messages in a request body. */
function cancelledRequestIds(body: unknown): (string | number)[] {
  const ids: (string | number)[] = []
  for (const message of Array.isArray(body) ? body : [body]) {
    const parsed = CancelledNotificationSchema.safeParse(message)
    const requestId = parsed.success ? parsed.data.params.requestId : undefined
    if (requestId !== undefined) ids.push(requestId)
  }
  return ids
}

/** The gateway's HTTP surface: RFC 9728 metadata and `/mcp` behind Host/Origin checks, a body cap and bearer auth. */
export function createHttpGateway(options: HttpGatewayOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const resourceUrl = new URL(options.resource)
  const authFailures = createAuthFailureSampler({ clock: options.clock, windowMs: 10_000, maxClients: 10_000 })
  function corsHeaders(origin: string | undefined): Record<string, string> {
    if (origin === undefined || !options.allowedOrigins.has(origin)) return {}
    return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': CORS_EXPOSE_HEADERS }
  }

  async function refuse(req: IncomingMessage, res: ServerResponse, error: AuthError, cors: Record<string, string>): Promise<void> {
    const { header, body } = options.challenge(error)
    const client = req.socket.remoteAddress ?? 'unknown'
    const sample = authFailures.admit(client)
    if (sample.record) {
      try {
        await options.audit.write({ type: 'auth.failure', code: error.code, reason: error.failure, client, ...(sample.suppressed > 0 ? { detail: { suppressedSinceLastRecord: sample.suppressed } } : {}) })
      } catch (auditError) {
        options.logError('audit write failed for auth failure', auditError)
      }
    }
    if (error.failure === 'issuer_unavailable') {
      // Refused (fail closed), but not as invalid_token: the token may be fine and clients should retry, not discard it.
      sendJson(res, 503, { error: 'temporarily_unavailable', error_description: 'The identity provider cannot be reached to verify tokens; retry shortly.' }, { 'retry-after': String(error.retryAfterSeconds ?? 5), ...cors })
      return
    }
    sendJson(res, 401, body, { 'www-authenticate': header, ...cors })
  }

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host
    if (host === undefined || !options.allowedHosts.has(host.toLowerCase())) {
      sendJson(res, 403, { error: 'forbidden', error_description: 'Host not allowed' })
      return
    }
    const origin = req.headers.origin
    if (origin !== undefined && !options.allowedOrigins.has(origin)) {
      sendJson(res, 403, { error: 'forbidden', error_description: 'Origin not allowed' })
      return
    }
    const cors = corsHeaders(origin)
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS', 'access-control-allow-headers': CORS_ALLOW_HEADERS, 'access-control-max-age': '600' })
      res.end()
      return
    }

    let principal: Principal
    try {
      principal = await options.authenticate(req.headers.authorization)
    } catch (error) {
      if (error instanceof AuthError) return refuse(req, res, error, cors)
      throw error
    }
    for (const [key, value] of Object.entries(cors)) res.setHeader(key, value)

    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
      res.setHeader('allow', 'GET, POST, DELETE, OPTIONS')
      jsonRpcError(res, 405, -32000, 'Method not allowed.')
      return
    }

    let body: unknown
    if (req.method === 'POST') {
      const read = await readBody(req, MAX_BODY_BYTES)
      if (!read.ok) {
        jsonRpcError(res, 413, -32000, `Request body exceeds ${MAX_BODY_BYTES} bytes.`)
        req.resume()
        return
      }
      try {
        body = JSON.parse(read.text)
      } catch {
        jsonRpcError(res, 400, -32700, 'Parse error: invalid JSON.')
        return
      }
    }

    const withAuth = Object.assign(req, { auth: options.principals.attach(principal, resourceUrl) })

    const sessionHeader = req.headers['mcp-session-id']
    if (sessionHeader === undefined) {
      const initializing = req.method === 'POST' && (Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body))
      if (!initializing) {
        jsonRpcError(res, 400, -32000, 'Bad Request: no session; send initialize first.')
        return
      }
      const id = randomBytes(32).toString('base64url')
      const idHash = hashSessionId(id)
      const record = await options.openSession(id, idHash, principal)
      if (!options.sessions.add(record)) {
        await record.handle.close()
        jsonRpcError(res, 503, -32000, 'The gateway has reached its session limit; try again later.')
        return
      }
      await options.audit.write({
        type: 'session.start',
        actor: { iss: principal.issuer, sub: principal.subject, groups: principal.groups },
        session: idHash,
        detail: { expiresAt: new Date(record.expiresAt).toISOString() },
      })
      res.setHeader('mcp-session-id', id)
      await record.handle.serve(withAuth, res, body)
      return
    }

    const id = Array.isArray(sessionHeader) ? (sessionHeader[0] ?? '') : sessionHeader
    const found = options.sessions.lookup(id, principal.issuer, principal.subject)
    if (!found.ok) {
      if (found.reason !== 'unknown') {
        await options.audit.write({
          type: 'session.rejected',
          actor: { iss: principal.issuer, sub: principal.subject, groups: principal.groups },
          session: hashSessionId(id),
          reason: found.reason,
          client: req.socket.remoteAddress ?? 'unknown',
        })
      }
      jsonRpcError(res, 404, -32001, 'Session not found.')
      return
    }
    if (req.method === 'DELETE') {
      await options.sessions.end(id, 'deleted')
      res.writeHead(200).end()
      return
    }
    if (req.method === 'GET') {
      // No standalone SSE stream: server-initiated messages travel on the POST that caused them.
      res.setHeader('allow', 'POST, DELETE')
      jsonRpcError(res, 405, -32000, 'This server does not offer a standalone SSE stream.')
      return
    }
    for (const requestId of cancelledRequestIds(body)) found.session.handle.cancel(requestId)
    await found.session.handle.serve(withAuth, res, body)
  }

  return function gateway(req, res) {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    let handled: Promise<void>
    if (METADATA_PATHS.has(path) && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, options.resourceMetadata, { 'access-control-allow-origin': '*' })
      return
    } else if (path === '/mcp') {
      handled = handleMcp(req, res)
    } else if (path === '/healthz' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok' })
      return
    } else {
      sendJson(res, 404, { error: 'not_found' })
      return
    }
    handled.catch((error: unknown) => {
      options.logError('request failed', error)
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error.')
      else res.end()
    })
  }
}

