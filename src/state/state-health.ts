/** Whether calls can be decided with the state store now; when not, how long clients should wait. */
export type StateStatus = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number }

/** Port: a cheap answer while the store is healthy; while it is not, a bounded probe. Never rejects. */
export interface StateHealth {
  check(): Promise<StateStatus>
}

/** The `Retry-After` the gateway sends while its state store is unavailable. */
export const STATE_RETRY_AFTER_SECONDS = 2
