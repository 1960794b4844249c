/** One counter a call must find room in: its key (without the deployment prefix) and its limit. */
export interface LimitSlot {
  readonly key: string
  readonly limit: number
}

export type RateAnswer = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number }

/**
 * Calls per sliding minute. `take` admits a call only when every slot has had fewer than its
 * limit of admitted calls in the last 60 s, and then counts it in all of them (all or nothing;
 * refused calls are not counted). Rejects with `StateError('STATE_UNAVAILABLE')` when the backend
 * cannot answer.
 */
export interface CallRateLimiter {
  take(slots: readonly LimitSlot[], now: number): Promise<RateAnswer>
}

export type LeaseAnswer = { readonly ok: true; release(): Promise<void> } | { readonly ok: false; readonly retryAfterMs: number }

/**
 * Calls in flight. `acquire` holds one place in every slot (all or nothing) until `release`;
 * a replica that dies holding places loses them when their lease lapses. Rejects with
 * `StateError('STATE_UNAVAILABLE')` when the backend cannot answer; `release` never rejects.
 */
export interface ConcurrencyLimiter {
  acquire(slots: readonly LimitSlot[], now: number): Promise<LeaseAnswer>
}

/** The window of CallRateLimiter. */
export const RATE_WINDOW_MS = 60_000

/** How soon a caller refused for concurrency may try again: a place frees whenever a call ends. */
export const CONCURRENCY_RETRY_MS = 1_000
