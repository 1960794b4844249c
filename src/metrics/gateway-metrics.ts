import type { AuthFailure } from '../errors.js'

/** Which part of the public HTTP surface a request reached (a fixed set: no paths as labels). */
export type RequestRoute = 'mcp' | 'metadata' | 'healthz' | 'other'

/** How a public HTTP request ended, from its status code (see `requestOutcome`). */
export type RequestOutcome =
  | 'ok'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'rejected'
  | 'throttled'
  | 'unavailable'
  | 'error'
  /** The client went away before the response was finished. */
  | 'aborted'

export type ToolCallOutcome = 'ok' | 'denied' | 'error'

/**
 * Which limit refused a request: `unauthenticated` is the per-address flood limit on requests
 * without valid credentials; the others are the per-subject and per-grant call limits.
 */
export type RateLimitKind = 'unauthenticated' | 'calls_per_minute' | 'concurrent_calls'

/**
 * Port: what the gateway reports for monitoring. Every label is drawn from a fixed set (tool names
 * come from the tool catalog, never from the caller), so no subject, address or argument becomes a
 * time series. Implementations never throw.
 */
export interface GatewayMetrics {
  request(route: RequestRoute, outcome: RequestOutcome): void
  authFailure(reason: AuthFailure): void
  /** `tool` must be a catalog name or `unknown`. */
  toolCall(tool: string, outcome: ToolCallOutcome, durationMs: number): void
  /** One group commit of the audit sink: how many records it made durable and how long it took. */
  auditCommit(records: number, durationMs: number): void
  /** The policy now enforced (replaces the previous fingerprint). */
  policyLoaded(fingerprint: string): void
  jwksRefresh(result: 'ok' | 'error'): void
  rateLimited(kind: RateLimitKind): void
  /** Where the number of live protocol sessions is read from at scrape time. */
  trackActiveSessions(count: () => Promise<number> | number): void
}

/** Metrics that go nowhere: for tests and embeddings that do not export any. */
export const noopMetrics: GatewayMetrics = {
  request: () => {},
  authFailure: () => {},
  toolCall: () => {},
  auditCommit: () => {},
  policyLoaded: () => {},
  jwksRefresh: () => {},
  rateLimited: () => {},
  trackActiveSessions: () => {},
}

/** The outcome a status code stands for; `finished` false means the client left first. */
export function requestOutcome(status: number, finished: boolean): RequestOutcome {
  if (!finished) return 'aborted'
  if (status < 400) return 'ok'
  if (status === 401) return 'unauthenticated'
  if (status === 403) return 'forbidden'
  if (status === 404) return 'not_found'
  if (status === 429) return 'throttled'
  if (status === 503) return 'unavailable'
  if (status < 500) return 'rejected'
  return 'error'
}
