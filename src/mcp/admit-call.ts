import type { Principal } from '../auth/principal.js'
import { EVERYONE_GRANT_ID } from '../policy/everyone-grant.js'
import { grantNotAfterMs } from '../policy/grant-matches.js'
import type { PolicyGrant } from '../policy/policy.js'
import type { Activation, ActivationAnswer } from '../state/activation-store.js'
import type { LimitSlot } from '../state/call-limiter.js'
import type { GatewayState } from '../state/gateway-state.js'
import { identityTag } from '../state/identity-tag.js'
import { durationText, utcTimeOfDay } from '../../tools/access-period.js'

/** Calls per sliding minute and calls in flight; an absent field is no limit. */
export interface CallLimits {
  readonly callsPerMinute?: number | undefined
  readonly concurrentCalls?: number | undefined
}

export interface CallAdmissionOptions {
  readonly state: Pick<GatewayState, 'activations' | 'rates' | 'concurrency'>
  /** Per subject across all their grants (config `limits`); a grant's own `limits` apply on top. */
  readonly subjectLimits: CallLimits
  /** See ActivationRequest.maxSignInAgeMs. */
  readonly maxSignInAgeMs: number
}

export type CallRefusal = {
  readonly ok: false
  readonly code: 'GRANT_EXPIRED' | 'SIGN_IN_REQUIRED' | 'RATE_LIMITED'
  /** Stable, for the audit record. */
  readonly reason: 'ACTIVATION_ENDED' | 'SIGN_IN_MISSING' | 'SIGN_IN_TOO_OLD' | 'CALLS_PER_MINUTE' | 'CONCURRENT_CALLS'
  /** Safe for the caller: names only their grant, times and numbers. */
  readonly message: string
}

export type CallAdmission =
  | {
      readonly ok: true
      readonly activation: Activation
      /** This call began the period (`renewed`: after an earlier one had ended). */
      readonly started: boolean
      readonly renewed: boolean
      /** Frees the call's concurrency places; never rejects. */
      release(): Promise<void>
    }
  | {
      /** Under the built-in grant for everyone: limits apply, but no access period is kept. */
      readonly ok: true
      readonly activation: undefined
      readonly started: false
      readonly renewed: false
      release(): Promise<void>
    }
  | CallRefusal

/**
 * Admits a call the policy allowed under `grant`, or refuses it: the calls-per-minute limits
 * (subject and grant), then a concurrency place in each, then the subject's access period under
 * the grant (started by this call if none runs; the built-in grant for everyone keeps none). Rejects with `StateError` when the state store
 * cannot answer; then nothing is held.
 */
export type AdmitCall = (principal: Principal, grant: PolicyGrant, now: number) => Promise<CallAdmission>

/** When the token's holder last signed in, epoch ms: `auth_time`, else `iat` (never later than `iat`). */
export function signedInAt(principal: Principal): number | undefined {
  const seconds = principal.authTime === undefined ? principal.issuedAt : Math.min(principal.authTime, principal.issuedAt ?? principal.authTime)
  return seconds === undefined ? undefined : seconds * 1000
}

function slots(tag: string, grantId: string, subject: number | undefined, grant: number | undefined): LimitSlot[] {
  return [
    ...(subject === undefined ? [] : [{ key: `${tag}:subject`, limit: subject }]),
    ...(grant === undefined ? [] : [{ key: `${tag}:grant:${grantId}`, limit: grant }]),
  ]
}

function periodRefusal(answer: Exclude<ActivationAnswer, { outcome: 'started' | 'active' }>, grantId: string, maxSignInAgeMs: number): CallRefusal {
  if (answer.outcome === 'ended') {
    const end = answer.activation.expiresAt
    return { ok: false, code: 'GRANT_EXPIRED', reason: 'ACTIVATION_ENDED', message: `Your access through grant ${JSON.stringify(grantId)} ended at ${utcTimeOfDay(end)} (${new Date(end).toISOString()}).` }
  }
  return answer.reason === 'missing'
    ? { ok: false, code: 'SIGN_IN_REQUIRED', reason: 'SIGN_IN_MISSING', message: `Grant ${JSON.stringify(grantId)}: your token carries no sign-in time (auth_time or iat).` }
    : { ok: false, code: 'SIGN_IN_REQUIRED', reason: 'SIGN_IN_TOO_OLD', message: `Grant ${JSON.stringify(grantId)}: your last sign-in is more than ${durationText(maxSignInAgeMs / 1000)} old.` }
}

export function createCallAdmission(options: CallAdmissionOptions): AdmitCall {
  const { state, subjectLimits, maxSignInAgeMs } = options

  return async function admitCall(principal, grant, now) {
    const tag = identityTag(principal.issuer, principal.subject)
    const rate = await state.rates.take(slots(tag, grant.id, subjectLimits.callsPerMinute, grant.limits?.callsPerMinute), now)
    if (!rate.ok) {
      const seconds = Math.max(1, Math.ceil(rate.retryAfterMs / 1000))
      return { ok: false, code: 'RATE_LIMITED', reason: 'CALLS_PER_MINUTE', message: `Retry after ${seconds} s.` }
    }
    const lease = await state.concurrency.acquire(slots(tag, grant.id, subjectLimits.concurrentCalls, grant.limits?.concurrentCalls), now)
    if (!lease.ok) {
      const seconds = Math.max(1, Math.ceil(lease.retryAfterMs / 1000))
      return { ok: false, code: 'RATE_LIMITED', reason: 'CONCURRENT_CALLS', message: `You have as many calls in flight as allowed; retry after ${seconds} s.` }
    }
    // The built-in grant (whoami for everyone) has no access period: there is nothing to end.
    if (grant.id === EVERYONE_GRANT_ID) return { ok: true, activation: undefined, started: false, renewed: false, release: lease.release }
    let answer: ActivationAnswer
    try {
      answer = await state.activations.activate({
        key: { issuer: principal.issuer, subject: principal.subject, grantId: grant.id },
        now,
        ttlMs: grant.ttl * 1000,
        notAfterMs: grantNotAfterMs(grant),
        signedInAt: signedInAt(principal),
        maxSignInAgeMs,
      })
    } catch (error) {
      await lease.release()
      throw error
    }
    if (answer.outcome === 'started') return { ok: true, activation: answer.activation, started: true, renewed: answer.renewed, release: lease.release }
    if (answer.outcome === 'active') return { ok: true, activation: answer.activation, started: false, renewed: false, release: lease.release }
    await lease.release()
    return periodRefusal(answer, grant.id, maxSignInAgeMs)
  }
}
