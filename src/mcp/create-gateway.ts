import type { IncomingMessage, ServerResponse } from 'node:http'
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node'
import type { Principal } from '../auth/principal.js'
import type { AuditSink } from '../audit/audit-event.js'
import { hashSessionId } from '../audit/hash-session-id.js'
import type { Clock } from '../clock.js'
import type { AuthError } from '../errors.js'
import { noopMetrics, type GatewayMetrics } from '../metrics/gateway-metrics.js'
import { toolAccess } from '../policy/tool-access.js'
import { DEFAULT_TTL_SECONDS } from '../policy/policy-schema.js'
import type { Policy } from '../policy/policy.js'
import type { AnyToolDefinition, ToolDeps } from '../../tools/define-tool.js'
import { createAuditSampling } from './audit-sampling.js'
import { createToolCaller, type CallLogEntry, type CallSession } from './call-tool.js'
import { createClientAddress, type ClientAddress } from './client-address.js'
import { createHttpGateway, MAX_BODY_BYTES, type GatewayHealth, type GatewaySession } from './http-gateway.js'
import { createModernLane } from './modern-lane.js'
import { createSessionRegistry, type SessionRecord, type SessionRegistry } from './session-registry.js'
import { createSessionServer } from './session-server.js'
import { createToolCatalog } from './tool-catalog.js'
import type { UnauthenticatedLimiter } from './unauthenticated-limiter.js'

export interface GatewayOptions {
  readonly resourceMetadata: Record<string, unknown>
  readonly allowedHosts: readonly string[]
  readonly allowedOrigins: readonly string[]
  readonly authenticate: (authorization: string | undefined) => Promise<Principal>
  readonly challenge: (error: AuthError | undefined) => { header: string; body: Record<string, unknown> }
  readonly tools: readonly AnyToolDefinition[]
  readonly policy: () => Policy
  readonly deps: ToolDeps
  readonly audit: AuditSink
  readonly clock: Clock
  readonly redactArgs: (args: Record<string, unknown>) => Record<string, unknown>
  readonly sessions: { readonly idleTimeoutSeconds: number; readonly maxPerSubject: number; readonly maxTotal: number }
  readonly logError: (message: string, error: unknown, fields?: Record<string, unknown>) => void
  /** What `/healthz` reports (the audit log's health); absent means always healthy. */
  readonly health?: () => GatewayHealth
  /** Where counters and latencies go; none by default. */
  readonly metrics?: GatewayMetrics
  /** One operator log line per finished tool call. */
  readonly logCall?: (entry: CallLogEntry) => void
  /** Who a request comes from; by default the socket's peer (no proxy is trusted). */
  readonly clientAddress?: ClientAddress
  /** The per-address limit on failed authentications; none by default. */
  readonly limiter?: UnauthenticatedLimiter
  readonly onAddressThrottled?: (address: string) => void
}

type LiveSession = GatewaySession

export interface Gateway {
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  readonly sessions: SessionRegistry<LiveSession>
  /**
   * Writes the counts of sampled-out auth failures and denials: `'ended'` for windows that are over
   * (call it on a timer), `'all'` for everything pending. Never throws.
   */
  flushAuditSamples(scope: 'ended' | 'all'): Promise<void>
  /** Ends every session, then writes every pending sampled count (`flushAuditSamples('all')`); call before the audit log closes. */
  close(): Promise<void>
}

/** Wires catalog, policy, sessions, auth and audit into the gateway's request handler. */
export function createGateway(options: GatewayOptions): Gateway {
  const { clock, audit } = options
  const metrics = options.metrics ?? noopMetrics
  const catalog = createToolCatalog(options.tools)
  const sampling = createAuditSampling({ audit, clock, logError: options.logError })
  const caller = createToolCaller({
    catalog,
    deps: options.deps,
    audit,
    denials: sampling,
    clock,
    redactArgs: options.redactArgs,
    logError: options.logError,
    metrics,
    ...(options.logCall === undefined ? {} : { logCall: options.logCall }),
  })

  const sessions = createSessionRegistry<LiveSession>({
    clock,
    idleTimeoutMs: options.sessions.idleTimeoutSeconds * 1000,
    maxPerSubject: options.sessions.maxPerSubject,
    maxTotal: options.sessions.maxTotal,
    onEnd(session, reason) {
      audit
        .write({ type: 'session.end', actor: { iss: session.issuer, sub: session.subject, groups: [] }, session: hashSessionId(session.id), reason })
        .catch((error: unknown) => options.logError('audit write failed for session end', error))
    },
  })
  metrics.trackActiveSessions(() => sessions.size)

  /** A new session may live as long as the longest ttl among the caller's grants; each use shortens it. */
  function initialTtlMs(policy: Policy, principal: Principal, now: number): number {
    let longest = 0
    for (const tool of options.tools) {
      for (const grant of toolAccess(policy, principal, { name: tool.name, connectionKinds: tool.connectionKinds }, now).grants) {
        longest = Math.max(longest, grant.ttl)
      }
    }
    return (longest > 0 ? longest : DEFAULT_TTL_SECONDS) * 1000
  }

  async function openSession(id: string, idHash: string, principal: Principal): Promise<SessionRecord<LiveSession>> {
    const now = clock.now()
    const inflight = new Map<string, AbortController>()
    // The initialize request that opens the session is served with the snapshot its ttl came from:
    // one policy read per HTTP request, this one included.
    let openingSnapshot: Policy | undefined = options.policy()
    const record: SessionRecord<LiveSession> & CallSession = {
      id,
      idHash,
      issuer: principal.issuer,
      subject: principal.subject,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + initialTtlMs(openingSnapshot, principal, now),
      handle: {
        async serve(req, res, body, principal) {
          // A fresh server per request (stateless SDK transport): the session itself is only this record.
          // It gets this request's principal and one policy snapshot, so a reload mid-request changes nothing.
          const policy = openingSnapshot ?? options.policy()
          openingSnapshot = undefined
          const transport = new NodeStreamableHTTPServerTransport({})
          const server = createSessionServer({
            catalog,
            caller,
            principal,
            policy,
            clock,
            audit,
            session: record,
            inflight,
            logError: options.logError,
          })
          // Closing the server when the response ends aborts whatever the client walked away from.
          res.once('close', () => {
            void server.close()
          })
          await server.connect(transport)
          await transport.handleRequest(req, res, body)
        },
        cancel(requestId) {
          inflight.get(String(requestId))?.abort()
        },
        async close() {
          for (const controller of inflight.values()) controller.abort()
          inflight.clear()
        },
      },
    }
    return record
  }

  const modern = createModernLane({ catalog, caller, policy: options.policy, clock, audit, logError: options.logError, maxBodyBytes: MAX_BODY_BYTES })

  const handler = createHttpGateway({
    resourceMetadata: options.resourceMetadata,
    allowedHosts: new Set(options.allowedHosts.map((h) => h.toLowerCase())),
    allowedOrigins: new Set(options.allowedOrigins),
    authenticate: options.authenticate,
    challenge: options.challenge,
    sessions,
    openSession,
    audit,
    sampling,
    clock,
    logError: options.logError,
    metrics,
    clientAddress: options.clientAddress ?? createClientAddress(undefined),
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    ...(options.onAddressThrottled === undefined ? {} : { onAddressThrottled: options.onAddressThrottled }),
    ...(options.health === undefined ? {} : { health: options.health }),
    serveModern: modern.serve,
  })

  return {
    handler,
    sessions,
    flushAuditSamples: (scope) => sampling.flush(scope),
    async close() {
      await modern.close()
      await sessions.closeAll()
      await sampling.flush('all')
    },
  }
}
