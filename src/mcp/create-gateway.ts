import type { IncomingMessage, ServerResponse } from 'node:http'
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node'
import type { Principal } from '../auth/principal.js'
import type { AuditSink } from '../audit/audit-event.js'
import { hashSessionId } from '../audit/hash-session-id.js'
import type { Clock } from '../clock.js'
import type { AuthError } from '../errors.js'
import type { Policy } from '../policy/policy.js'
import { createMemoryState, type GatewayState } from '../state/gateway-state.js'
import type { AnyToolDefinition, ToolDeps } from '../../tools/define-tool.js'
import { createCallAdmission, type CallLimits } from './admit-call.js'
import { createAuditSampling } from './audit-sampling.js'
import { createToolCaller, type CallSession } from './call-tool.js'
import { createHttpGateway, MAX_BODY_BYTES, type GatewayHealth, type GatewaySession } from './http-gateway.js'
import { createModernLane } from './modern-lane.js'
import { createSessionRegistry, type SessionRecord, type SessionRegistry } from './session-registry.js'
import { createSessionServer } from './session-server.js'
import { createToolCatalog } from './tool-catalog.js'

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
  readonly sessions: {
    readonly idleTimeoutSeconds: number
    readonly maxPerSubject: number
    readonly maxTotal: number
    /** Absolute limit of a 2025-lane session; default 12 h. Grant time is not kept here but in activations. */
    readonly maxLifetimeSeconds?: number
  }
  /** Activations and call limits, with their health; default this process's memory (one gateway). */
  readonly state?: GatewayState
  /** Per subject across all grants (config `limits`); default none. */
  readonly limits?: CallLimits
  /** See the config's `activations.maxSignInAgeSeconds`; default 24 h. */
  readonly maxSignInAgeSeconds?: number
  readonly logError: (message: string, error: unknown) => void
  /** What `/healthz` reports (the audit log's health); absent means always healthy. */
  readonly health?: () => GatewayHealth
}

type LiveSession = GatewaySession

const DEFAULT_SESSION_LIFETIME_SECONDS = 12 * 3600
const DEFAULT_MAX_SIGN_IN_AGE_SECONDS = 24 * 3600

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
  const catalog = createToolCatalog(options.tools)
  const sampling = createAuditSampling({ audit, clock, logError: options.logError })
  const state = options.state ?? createMemoryState(clock)
  const caller = createToolCaller({
    admit: createCallAdmission({ state, subjectLimits: options.limits ?? {}, maxSignInAgeMs: (options.maxSignInAgeSeconds ?? DEFAULT_MAX_SIGN_IN_AGE_SECONDS) * 1000 }),
    activations: state.activations,
    catalog,
    deps: options.deps,
    audit,
    denials: sampling,
    clock,
    redactArgs: options.redactArgs,
    logError: options.logError,
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

  async function openSession(id: string, idHash: string, principal: Principal): Promise<SessionRecord<LiveSession>> {
    const now = clock.now()
    const inflight = new Map<string, AbortController>()
    // The initialize request that opens the session is served with the snapshot read for it: one
    // policy read per HTTP request, this one included.
    let openingSnapshot: Policy | undefined = options.policy()
    const record: SessionRecord<LiveSession> & CallSession = {
      id,
      idHash,
      issuer: principal.issuer,
      subject: principal.subject,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + (options.sessions.maxLifetimeSeconds ?? DEFAULT_SESSION_LIFETIME_SECONDS) * 1000,
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
    ...(options.health === undefined ? {} : { health: options.health }),
    stateHealth: state.health,
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
