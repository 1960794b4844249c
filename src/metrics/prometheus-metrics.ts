import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { GatewayMetrics } from './gateway-metrics.js'

export interface PrometheusMetrics extends GatewayMetrics {
  /** This gateway's own registry (never prom-client's global one, so two gateways in one process do not mix). */
  readonly registry: Registry
  /** The exposition text and its content type, for `/metrics`. */
  scrape(): Promise<{ readonly contentType: string; readonly text: string }>
}

export interface PrometheusMetricsOptions {
  /** Also export the Node process metrics (CPU, RSS, heap, event loop lag, GC). Default true. */
  readonly processMetrics?: boolean
}

// Tool calls run from sub-millisecond (whoami) to the tools' deadlines (a minute and more).
const TOOL_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
// An audit commit is a write (and fdatasync) or a database round trip.
const AUDIT_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/**
 * How often the event-loop delay histogram takes a sample, in ms. prom-client's default of 10 ms
 * wakes the process 100 times a second whether it serves anything or not (about 7 ms of CPU a
 * second on a two-core machine, against 1 ms at 100 ms). A stall still delays the pending sample by
 * its whole length, so the lag metrics still show it; a 15 s scrape interval still holds 150
 * samples. The lag metrics report the whole interval between samples: 0.1 s when idle.
 */
const EVENT_LOOP_SAMPLE_MS = 100

/** The gateway's metrics on a fresh prom-client Registry (names `airlock_*`). */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = new Registry()
  const registers = [registry]
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS })

  const requests = new Counter({ name: 'airlock_http_requests_total', help: 'Public HTTP requests by route and outcome.', labelNames: ['route', 'outcome'] as const, registers })
  const authFailures = new Counter({ name: 'airlock_auth_failures_total', help: 'Refused bearer credentials by reason.', labelNames: ['reason'] as const, registers })
  const toolCalls = new Counter({ name: 'airlock_tool_calls_total', help: 'tools/call requests by tool and outcome.', labelNames: ['tool', 'outcome'] as const, registers })
  const toolSeconds = new Histogram({
    name: 'airlock_tool_call_duration_seconds',
    help: 'tools/call latency, policy decision to audited result, by tool and outcome.',
    labelNames: ['tool', 'outcome'] as const,
    buckets: TOOL_SECONDS,
    registers,
  })
  const auditSeconds = new Histogram({ name: 'airlock_audit_commit_duration_seconds', help: 'Audit group commits: write and flush until durable.', buckets: AUDIT_SECONDS, registers })
  const auditRecords = new Counter({ name: 'airlock_audit_records_total', help: 'Audit records made durable.', registers })
  const policyInfo = new Gauge({ name: 'airlock_policy_info', help: 'The fingerprint of the policy in force (value 1).', labelNames: ['fingerprint'] as const, registers })
  const jwksRefreshes = new Counter({ name: 'airlock_jwks_refreshes_total', help: 'OIDC discovery and JWKS fetches by result.', labelNames: ['result'] as const, registers })
  const rateLimited = new Counter({ name: 'airlock_rate_limited_total', help: 'Requests refused by a rate limit, by limit.', labelNames: ['limit'] as const, registers })
  let sessionSource: (() => Promise<number> | number) | undefined
  new Gauge({
    name: 'airlock_sessions_active',
    help: 'Live protocol sessions (2025 lane) in the session store: this replica with the memory store, every replica sharing a Redis store.',
    registers,
    async collect() {
      // A store that cannot answer leaves the last value rather than failing the whole scrape.
      try {
        this.set(await (sessionSource?.() ?? 0))
      } catch {}
    },
  })

  return {
    registry,
    async scrape() {
      return { contentType: registry.contentType, text: await registry.metrics() }
    },
    request: (route, outcome) => requests.inc({ route, outcome }),
    authFailure: (reason) => authFailures.inc({ reason }),
    toolCall(tool, outcome, durationMs) {
      toolCalls.inc({ tool, outcome })
      toolSeconds.observe({ tool, outcome }, durationMs / 1000)
    },
    auditCommit(records, durationMs) {
      auditRecords.inc(records)
      auditSeconds.observe(durationMs / 1000)
    },
    policyLoaded(fingerprint) {
      policyInfo.reset()
      policyInfo.set({ fingerprint }, 1)
    },
    jwksRefresh: (result) => jwksRefreshes.inc({ result }),
    rateLimited: (limit) => rateLimited.inc({ limit }),
    trackActiveSessions(count) {
      sessionSource = count
    },
  }
}
