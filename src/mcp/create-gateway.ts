import type { IncomingMessage, ServerResponse } from 'node:http'
import { createApprovalService, type ApprovalService } from '../approvals/approval-service.js'
import type { Principal } from '../auth/principal.js'
import type { AuditSink } from '../audit/audit-event.js'
import type { Clock } from '../clock.js'
import type { AuthError } from '../errors.js'
import { noopMetrics, type GatewayMetrics } from '../metrics/gateway-metrics.js'
import type { Policy } from '../policy/policy.js'
import { createMemoryState, type GatewayState } from '../state/gateway-state.js'
import { createMemorySessionStore } from '../state/memory-session-store.js'
import type { AnyToolDefinition, ToolDeps } from '../../tools/define-tool.js'
import { createCallAdmission, type CallLimits } from './admit-call.js'
import { abortableSleep } from './approval-call.js'
import { createAuditSampling } from './audit-sampling.js'
import type { CallLogEntry } from './call-record.js'
import { createToolCaller } from './call-tool.js'
import { createClientAddress, type ClientAddress } from './client-address.js'
import { createHttpGateway, MAX_BODY_BYTES, type GatewayHealth } from './http-gateway.js'
import { createLegacyLane } from './legacy-lane.js'
import { createModernLane } from './modern-lane.js'
import { createToolCatalog } from './tool-catalog.js'
import type { UnauthenticatedLimiter } from './unauthenticated-limiter.js'

export interface GatewayOptions {
  /** The RFC 9728 document, built per request (its `scopes_supported` may follow the policy). */
  readonly resourceMetadata: () => Record<string, unknown>
  readonly allowedHosts: readonly string[]
  readonly allowedOrigins: readonly string[]
  readonly authenticate: (authorization: string | undefined) => Promise<Principal>
  readonly challenge: (error: AuthError | undefined, scope?: string) => { header: string; body: Record<string, unknown> }
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
  /** The approval flow (built in src/cli with its webhooks); default one over `state.approvals` without notifications. */
  readonly approvals?: ApprovalService
  /** How long a call whose client asked for progress waits for its approval (config `approvals.waitSeconds`); default 0: it answers at once. */
  readonly approvalWaitSeconds?: number
  /** Per subject across all grants (config `limits`); default none. */
  readonly limits?: CallLimits
  /** See the config's `activations.maxSignInAgeSeconds`; default 24 h. */
  readonly maxSignInAgeSeconds?: number
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

const DEFAULT_SESSION_LIFETIME_SECONDS = 12 * 3600
const DEFAULT_MAX_SIGN_IN_AGE_SECONDS = 24 * 3600

export interface Gateway {
  /** The approval flow the calls use (the admin API decides through the same one). */
  readonly approvals: ApprovalService
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  /** The 2025 lane's sessions: `sweep()` ends lapsed ones (call it on a timer); `count()` is the live number across replicas. */
  readonly sessions: { sweep(): Promise<void>; count(): Promise<number> }
  /**
   * Writes the counts of sampled-out auth failures and denials: `'ended'` for windows that are over
   * (call it on a timer), `'all'` for everything pending. Never throws.
   */
  flushAuditSamples(scope: 'ended' | 'all'): Promise<void>
  /** Aborts in-flight calls and ends this process's own sessions, then writes every pending sampled count (`flushAuditSamples('all')`); call before the audit log closes. */
  close(): Promise<void>
}

/** Wires catalog, policy, sessions, auth and audit into the gateway's request handler. */
export function createGateway(options: GatewayOptions): Gateway {
  const { clock, audit } = options
  const metrics = options.metrics ?? noopMetrics
  const catalog = createToolCatalog(options.tools)
  const sampling = createAuditSampling({ audit, clock, logError: options.logError })
  const state = options.state ?? createMemoryState(clock)
  const approvals = options.approvals ?? createApprovalService({ store: state.approvals, audit, clock })
  const waitSeconds = options.approvalWaitSeconds ?? 0
  const caller = createToolCaller({
    approvals,
    ...(waitSeconds > 0 ? { approvalWait: { maxMs: waitSeconds * 1000, pollMs: 1000, sleep: abortableSleep, now: () => clock.now() } } : {}),
    admit: createCallAdmission({ state, subjectLimits: options.limits ?? {}, maxSignInAgeMs: (options.maxSignInAgeSeconds ?? DEFAULT_MAX_SIGN_IN_AGE_SECONDS) * 1000 }),
    activations: state.activations,
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

  const clientAddress = options.clientAddress ?? createClientAddress(undefined)
  const legacy = createLegacyLane({
    // Shared sessions come with a shared state (Redis); otherwise this process keeps its own.
    store: state.sessions ?? createMemorySessionStore({ idleTimeoutMs: options.sessions.idleTimeoutSeconds * 1000, maxPerSubject: options.sessions.maxPerSubject, maxTotal: options.sessions.maxTotal }),
    shared: state.sessions !== undefined,
    ...(state.cancelBus === undefined ? {} : { cancelBus: state.cancelBus }),
    catalog,
    caller,
    sessionLifetimeMs: (options.sessions.maxLifetimeSeconds ?? DEFAULT_SESSION_LIFETIME_SECONDS) * 1000,
    clock,
    audit,
    logError: options.logError,
    clientAddress,
  })
  metrics.trackActiveSessions(() => legacy.count())

  const modern = createModernLane({ catalog, caller, clock, audit, logError: options.logError, maxBodyBytes: MAX_BODY_BYTES })

  const handler = createHttpGateway({
    resourceMetadata: options.resourceMetadata,
    policy: options.policy,
    allowedHosts: new Set(options.allowedHosts.map((h) => h.toLowerCase())),
    allowedOrigins: new Set(options.allowedOrigins),
    authenticate: options.authenticate,
    challenge: options.challenge,
    legacy,
    sampling,
    clock,
    logError: options.logError,
    metrics,
    clientAddress,
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    ...(options.onAddressThrottled === undefined ? {} : { onAddressThrottled: options.onAddressThrottled }),
    ...(options.health === undefined ? {} : { health: options.health }),
    stateHealth: state.health,
    serveModern: modern.serve,
  })

  return {
    approvals,
    handler,
    sessions: { sweep: legacy.sweep, count: legacy.count },
    flushAuditSamples: (scope) => sampling.flush(scope),
    async close() {
      await modern.close()
      await legacy.close()
      await sampling.flush('all')
    },
  }
}
