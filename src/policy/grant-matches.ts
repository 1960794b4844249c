import type { Grant } from './policy-schema.js'

/** Who is asking, as far as policy cares: the token's groups and `sub`. */
export interface PolicyIdentity {
  readonly groups: readonly string[]
  readonly subject?: string | undefined
}

/** True when any of the grant's groups is one of the identity's groups, or its subjects name the identity (exact, case-sensitive). */
export function grantMatchesIdentity(grant: Grant, identity: PolicyIdentity): boolean {
  if (identity.subject !== undefined && grant.subjects.includes(identity.subject)) return true
  return grant.groups.some((group) => identity.groups.includes(group))
}

/** Epoch ms at which the grant stops working, or undefined when it does not expire. */
export function grantNotAfterMs(grant: Grant): number | undefined {
  if (grant.notAfter === undefined) return undefined
  const ms = Date.parse(grant.notAfter)
  // An unparseable instant cannot be honoured, so it counts as already past (fail closed).
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms
}

/** A grant stops working at its `notAfter` instant (not after it). */
export function grantIsExpired(grant: Grant, nowMs: number): boolean {
  const notAfter = grantNotAfterMs(grant)
  return notAfter !== undefined && nowMs >= notAfter
}

/** The grant's ttl in seconds, shortened so a session never outlives `notAfter` (at least 1 s). */
export function grantTtlSeconds(grant: Grant, nowMs: number): number {
  const notAfter = grantNotAfterMs(grant)
  if (notAfter === undefined) return grant.ttl
  return Math.max(1, Math.min(grant.ttl, Math.floor((notAfter - nowMs) / 1000)))
}

/** Whether each call under a grant needs a human approval first. */
export function grantNeedsApproval(grant: Grant): boolean {
  return grant.approval !== undefined
}
