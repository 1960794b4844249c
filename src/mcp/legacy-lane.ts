import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node'
import { isInitializeRequest, isJsonContentType } from '@modelcontextprotocol/server'
import type { Principal } from '../auth/principal.js'
import type { AuditSink } from '../audit/audit-event.js'
import { hashSessionId } from '../audit/hash-session-id.js'
import type { Clock } from '../clock.js'
import type { Policy } from '../policy/policy.js'
import { createLocalCancelBus, type CancelBus } from '../state/cancel-bus.js'
import type { SessionEndReason, SessionStore, StoredSession } from '../state/session-store.js'
import type { CallSession, ToolCaller } from './call-tool.js'
import { namesMethod } from './names-method.js'
import { jsonRpcError } from './send-json.js'
import { createSessionServer } from './session-server.js'
import type { ToolCatalog } from './tool-catalog.js'
import { wrapNonObjectArguments } from './wrap-non-object-arguments.js'

export interface LegacyLaneOptions {
  readonly store: SessionStore
  /**
   * Whether other replicas share the store: then a replica that stops leaves the sessions to
   * them; otherwise its sessions end with it.
   */
  readonly shared: boolean
  /** Carries notifications/cancelled to the replica running the call; default: this process only. */
  readonly cancelBus?: CancelBus
  readonly catalog: ToolCatalog
  readonly caller: ToolCaller
  /** How long a session lives at most, whatever its activity (grant time is kept in activations, not here). */
  readonly sessionLifetimeMs: number
  readonly clock: Clock
  readonly audit: AuditSink
  readonly logError: (message: string, error: unknown) => void
  /** Who a request comes from, for the record of a refused session id. */
  readonly clientAddress: (req: IncomingMessage) => string
}

/** The 2025 lane's sessions: `initialize` opens one, later requests name it by `Mcp-Session-Id`. */
/** What a POST in a session brings besides its body. */
export interface SessionPost {
  /** JSON-RPC ids named by notifications/cancelled in the body. */
  readonly cancelIds: readonly (string | number)[]
  /** The POST's policy snapshot; undefined for GET and DELETE. */
  readonly policy: Policy | undefined
  /** Refuses the request (answering it) before it is served; true when it did. */
  readonly admit: (policy: Policy, idHash: string) => Promise<boolean>
}

export interface LegacyLane {
  /**
   * A request without a session id: must be initialize, which opens a session (503 at the limit);
   * `policy` is the POST's snapshot (undefined for other methods, which are refused).
   */
  start(req: IncomingMessage, res: ServerResponse, principal: Principal, body: unknown, policy: Policy | undefined): Promise<void>
  /** A request in a session: 404 unless it is the caller's live session; then DELETE, GET or POST. */
  continue(req: IncomingMessage, res: ServerResponse, principal: Principal, body: unknown, id: string, post: SessionPost): Promise<void>
  /** Ends lapsed sessions (recording each end once across replicas). */
  sweep(): Promise<void>
  /** Live sessions across every replica that shares the store. */
  count(): Promise<number>
  /** Aborts this replica's in-flight calls; ends its sessions unless the store is shared. */
  close(): Promise<void>
}

const SWEEP_BATCH = 1000

/** The SDK's own check, behind the method test (see namesMethod). */
function isInitializeMessage(message: unknown): boolean {
  return namesMethod(message, 'initialize') && isInitializeRequest(message)
}

function isInitialize(body: unknown): boolean {
  return Array.isArray(body) ? body.some(isInitializeMessage) : isInitializeMessage(body)
}

function asksForProgress(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false
  const params: unknown = (message as { params?: unknown }).params
  if (typeof params !== 'object' || params === null) return false
  const meta: unknown = (params as { _meta?: unknown })._meta
  return typeof meta === 'object' && meta !== null && (meta as { progressToken?: unknown }).progressToken !== undefined
}

/**
 * Whether answering the body may take more than its responses: progress notifications, the only
 * messages a session server sends besides responses (it sends no requests to the client and has
 * no logging capability), need an SSE stream. Otherwise the answer is plain JSON, which the
 * 2025-06-18 transport allows for any POST and spares the stream's machinery.
 */
function needsStream(body: unknown): boolean {
  return Array.isArray(body) ? body.some(asksForProgress) : asksForProgress(body)
}

interface Refusal {
  readonly status: number
  readonly code: number
  readonly message: string
}

const NO_SESSION: Refusal = { status: 400, code: -32000, message: 'Bad Request: no session; send initialize first.' }

/**
 * Why an initialize request would be refused rather than answered, checked before a session
 * exists: the transport's own refusals (Accept, Content-Type, initialize in a batch) would
 * otherwise come after the session was opened, audited and counted against the caller's cap.
 */
function initializeRefusal(req: IncomingMessage, body: unknown): Refusal | undefined {
  if (req.method !== 'POST' || !isInitialize(body)) return NO_SESSION
  if (Array.isArray(body)) return { status: 400, code: -32600, message: 'Invalid Request: initialize must be sent alone, not in a batch.' }
  const accept = req.headers.accept ?? ''
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return { status: 406, code: -32000, message: 'Not Acceptable: Client must accept both application/json and text/event-stream.' }
  }
  if (!isJsonContentType(req.headers['content-type'])) return { status: 415, code: -32000, message: 'Unsupported Media Type: Content-Type must be application/json.' }
  return undefined
}

function actorOf(principal: Principal): { iss: string; sub: string; groups: readonly string[] } {
  return { iss: principal.issuer, sub: principal.subject, groups: principal.groups }
}

export function createLegacyLane(options: LegacyLaneOptions): LegacyLane {
  const { store, clock, audit } = options
  /** In-flight tools/call requests on this replica, by session id hash and then JSON-RPC id. */
  const inflight = new Map<string, Map<string, AbortController>>()
  /** Sessions opened by this replica, ended with it when the store is not shared. */
  const local = new Set<string>()
  const cancelBus = options.cancelBus ?? createLocalCancelBus()
  const unsubscribe = cancelBus.subscribe(({ idHash, requestId }) => inflight.get(idHash)?.get(requestId)?.abort())

  function abortLocal(idHash: string): void {
    const calls = inflight.get(idHash)
    if (calls === undefined) return
    for (const controller of calls.values()) controller.abort()
    inflight.delete(idHash)
  }

  function recordEnd(session: StoredSession, reason: SessionEndReason): void {
    abortLocal(session.idHash)
    local.delete(session.idHash)
    audit
      .write({ type: 'session.end', actor: { iss: session.issuer, sub: session.subject, groups: [] }, session: session.idHash, reason })
      .catch((error: unknown) => options.logError('audit write failed for session end', error))
  }

  /** Serves one HTTP request with a fresh server: the session itself is only its stored record. */
  async function serve(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal, session: StoredSession, policy: Policy): Promise<void> {
    let calls = inflight.get(session.idHash)
    if (calls === undefined) {
      calls = new Map()
      inflight.set(session.idHash, calls)
    }
    const callSession: CallSession = { idHash: session.idHash }
    const transport = new NodeStreamableHTTPServerTransport({ enableJsonResponse: !needsStream(body) })
    const wrapped = wrapNonObjectArguments(body)
    const server = createSessionServer({ catalog: options.catalog, caller: options.caller, principal, policy, clock, audit, session: callSession, inflight: calls, argumentsKey: wrapped.key, logError: options.logError })
    res.once('close', () => {
      // A response that did not finish may leave a call running that the client walked away from:
      // closing the server aborts it. A finished one answered every request it carried, so nothing
      // of this server still runs (no timers or listeners either: it sends no requests of its own)
      // and it is left to the collector; closing it would only build a ConnectionClosed error.
      if (!res.writableFinished) void server.close()
      if (inflight.get(session.idHash)?.size === 0) inflight.delete(session.idHash)
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, wrapped.body)
  }

  return {
    async start(req, res, principal, body, policy) {
      const refusal = initializeRefusal(req, body)
      if (refusal !== undefined || policy === undefined) {
        const { status, code, message } = refusal ?? NO_SESSION
        jsonRpcError(res, status, code, message)
        return
      }
      const id = randomBytes(32).toString('base64url')
      const now = clock.now()
      const session: StoredSession = {
        idHash: hashSessionId(id),
        issuer: principal.issuer,
        subject: principal.subject,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + options.sessionLifetimeMs,
      }
      const opened = await store.open(session, now)
      if (!opened.ok) {
        jsonRpcError(res, 503, -32000, 'The gateway has reached its session limit; try again later.')
        return
      }
      for (const evicted of opened.evicted) recordEnd(evicted, 'evicted')
      if (!options.shared) local.add(session.idHash)
      await audit.write({ type: 'session.start', actor: actorOf(principal), session: session.idHash, detail: { expiresAt: new Date(session.expiresAt).toISOString() } })
      res.setHeader('mcp-session-id', id)
      await serve(req, res, body, principal, session, policy)
      // Defence in depth: a session whose initialize was refused after all must not stay usable.
      if (res.statusCode >= 400) {
        const ended = await store.end(session.idHash)
        if (ended !== undefined) recordEnd(ended, 'refused')
      }
    },

    async continue(req, res, principal, body, id, post) {
      const idHash = hashSessionId(id)
      const found = await store.touch(idHash, principal.issuer, principal.subject, clock.now())
      if (!found.ok) {
        if (found.reason === 'expired' || found.reason === 'idle') recordEnd(found.session, found.reason)
        if (found.reason !== 'unknown') {
          // Only the hash of the presented id is written, so its length cannot grow the record.
          await audit.write({ type: 'session.rejected', actor: actorOf(principal), session: idHash, reason: found.reason, client: options.clientAddress(req) })
        }
        jsonRpcError(res, 404, -32001, 'Session not found.')
        return
      }
      if (req.method === 'DELETE') {
        const ended = await store.end(idHash)
        if (ended !== undefined) recordEnd(ended, 'deleted')
        res.writeHead(200).end()
        return
      }
      if (req.method === 'POST' && isInitialize(body)) {
        // Re-initializing would renegotiate (even downgrade) the protocol of a live session.
        jsonRpcError(res, 400, -32600, 'Invalid Request: this session is already initialized; open a new session instead.')
        return
      }
      if (req.method === 'GET') {
        // No standalone SSE stream: server-initiated messages travel on the POST that caused them.
        res.setHeader('allow', 'POST, DELETE')
        jsonRpcError(res, 405, -32000, 'This server does not offer a standalone SSE stream.')
        return
      }
      // Published only for a session verified as the caller's: nobody cancels another subject's call.
      for (const requestId of post.cancelIds) await cancelBus.publish({ idHash, requestId: String(requestId) })
      const policy = post.policy
      if (policy === undefined) throw new TypeError('a POST in a session without its policy snapshot')
      if (await post.admit(policy, idHash)) return
      await serve(req, res, body, principal, found.session, policy)
    },

    async sweep() {
      for (const { session, reason } of await store.sweep(clock.now(), SWEEP_BATCH)) recordEnd(session, reason)
    },

    count: () => store.count(clock.now()),

    async close() {
      unsubscribe()
      for (const idHash of [...inflight.keys()]) abortLocal(idHash)
      if (options.shared) return
      for (const idHash of [...local]) {
        const ended = await store.end(idHash)
        if (ended !== undefined) recordEnd(ended, 'shutdown')
      }
    },
  }
}
