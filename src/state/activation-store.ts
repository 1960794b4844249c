/** Whose access period, under which grant: every replica keys an activation by exactly these. */
export interface ActivationKey {
  readonly issuer: string
  readonly subject: string
  readonly grantId: string
}

/**
 * What started an access period. Today only a call after a sign-in does; an approval flow can
 * later write an activation of its own (`'approval'`) that the same rule then honours.
 */
export type ActivationSource = 'sign-in'

/** One subject's access period under one grant: it starts at their first call under the grant. */
export interface Activation {
  /** Epoch ms of the call that started the period. */
  readonly activatedAt: number
  /** Epoch ms at which the period ends, as stored: the grant's ttl after `activatedAt`, capped at its `notAfter`. */
  readonly expiresAt: number
  /** Epoch ms of the sign-in (`auth_time`, else `iat`) of the token that started the period. */
  readonly signedInAt: number
  readonly source: ActivationSource
  /**
   * Whether the period's `grant.activated` record has been written. A period starts unrecorded;
   * the gateway writes the record, then marks it. A period whose record failed stays unrecorded,
   * so the next call under it writes the record before any tool runs.
   */
  readonly recorded: boolean
}

export interface ActivationRequest {
  readonly key: ActivationKey
  readonly now: number
  /** The grant's ttl as the policy says it now, in ms. */
  readonly ttlMs: number
  /** The grant's `notAfter` (epoch ms), when it has one. */
  readonly notAfterMs: number | undefined
  /** The caller's sign-in (`auth_time`, else `iat`) in epoch ms; undefined when the token has neither. */
  readonly signedInAt: number | undefined
  /**
   * A new period needs a sign-in less than this long ago, and an ended record is kept this long
   * after its end: so by the time a record is gone, no token from before its end can start a new one.
   */
  readonly maxSignInAgeMs: number
}

export type ActivationAnswer =
  /** A new period began with this call (`renewed`: after an earlier one had ended). */
  | { readonly outcome: 'started'; readonly activation: Activation; readonly renewed: boolean }
  | { readonly outcome: 'active'; readonly activation: Activation }
  /** The period has ended and the token's sign-in is not later than its end (a refresh keeps `auth_time`). */
  | { readonly outcome: 'ended'; readonly activation: Activation }
  /** No period to continue, and the token's sign-in is missing or older than `maxSignInAgeMs`. */
  | { readonly outcome: 'sign_in_required'; readonly reason: 'missing' | 'too_old' }

/**
 * Where grant activations live: process memory for one node, Redis for replicas. Both apply
 * {@link decideActivation}; on Redis it runs as one script, so replicas racing on a first call
 * agree on a single period. Methods reject with `StateError('STATE_UNAVAILABLE')` when the backend
 * cannot answer (the caller refuses the call).
 */
export interface ActivationStore {
  /** Continues the caller's period under the grant, starts one, or says why it cannot. */
  activate(request: ActivationRequest): Promise<ActivationAnswer>
  /** Marks the period that started at `activatedAt` as recorded (a later period of the key is left alone). */
  markRecorded(key: ActivationKey, activatedAt: number): Promise<void>
  /** The stored activations of these keys (undefined where none is kept), in the same order; changes nothing. */
  find(keys: readonly ActivationKey[]): Promise<(Activation | undefined)[]>
}

/**
 * When a period really ends: its stored end, but never later than the grant's current ttl after
 * its start or the grant's current `notAfter` (a policy reload can shorten a running period; none
 * outlasts the end it began with).
 */
export function effectiveEnd(activation: Pick<Activation, 'activatedAt' | 'expiresAt'>, ttlMs: number, notAfterMs: number | undefined): number {
  const end = Math.min(activation.expiresAt, activation.activatedAt + ttlMs)
  return notAfterMs === undefined ? end : Math.min(end, notAfterMs)
}

/**
 * The activation rule, for a key's stored activation (if any). A running period continues. An
 * ended one stays ended until the caller presents a sign-in later than its end. A new period
 * needs a sign-in less than `maxSignInAgeMs` old; it lasts the grant's ttl, capped at `notAfter`.
 * The Redis store runs the same rule in Lua (test/state keeps the two in step).
 */
export function decideActivation(current: Activation | undefined, request: ActivationRequest): ActivationAnswer {
  const { now, signedInAt } = request
  if (current !== undefined) {
    const end = effectiveEnd(current, request.ttlMs, request.notAfterMs)
    const activation = { ...current, expiresAt: end }
    if (now < end) return { outcome: 'active', activation }
    if (signedInAt === undefined || signedInAt <= end) return { outcome: 'ended', activation }
  }
  if (signedInAt === undefined) return { outcome: 'sign_in_required', reason: 'missing' }
  if (signedInAt <= now - request.maxSignInAgeMs) return { outcome: 'sign_in_required', reason: 'too_old' }
  const expiresAt = request.notAfterMs === undefined ? now + request.ttlMs : Math.min(now + request.ttlMs, request.notAfterMs)
  return { outcome: 'started', activation: { activatedAt: now, expiresAt, signedInAt, source: 'sign-in', recorded: false }, renewed: current !== undefined }
}

/**
 * How long a record written at `now` for a period ending at `expiresAt` must be kept: until
 * `expiresAt + maxSignInAgeMs`. From then on a new period needs a sign-in later than
 * `now - maxSignInAgeMs >= expiresAt`, which is exactly what renewing the dropped record needed.
 */
export function activationRetentionMs(expiresAt: number, now: number, maxSignInAgeMs: number): number {
  return Math.max(expiresAt - now, 0) + maxSignInAgeMs
}
