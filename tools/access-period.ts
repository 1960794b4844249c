import type { PolicyIdentity } from '../src/policy/grant-matches.js'
import { grantNotAfterMs, grantTtlSeconds } from '../src/policy/grant-matches.js'
import { explainAccess } from '../src/policy/explain-access.js'
import type { Policy, PolicyGrant } from '../src/policy/policy.js'
import type { Grant } from '../src/policy/policy-schema.js'
import type { ToolKinds } from '../src/policy/tool-access.js'
import { effectiveEnd, type Activation } from '../src/state/activation-store.js'

/** Where a subject stands under one grant: in a running period, past one, or not started yet. */
export interface AccessPeriod {
  readonly status: 'active' | 'ended' | 'not_started'
  /** ISO 8601: when the running period ends or the last one ended. */
  readonly endsAt?: string
  /** How long a period lasts when it starts now (the ttl, capped at `notAfter`). */
  readonly periodSeconds: number
}

/** "10:42 UTC": a period lasts at most 12 h, so the time of day says which moment. */
export function utcTimeOfDay(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`
}

/** "15 min", "2 h", "45 s". */
export function durationText(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`
  return `${seconds} s`
}

/** The period of `grant` given the stored activation (if any), as of `nowMs`. */
export function accessPeriod(grant: Grant, activation: Activation | undefined, nowMs: number): AccessPeriod {
  const periodSeconds = grantTtlSeconds(grant, nowMs)
  if (activation === undefined) return { status: 'not_started', periodSeconds }
  const end = effectiveEnd(activation, grant.ttl * 1000, grantNotAfterMs(grant))
  return { status: nowMs < end ? 'active' : 'ended', endsAt: new Date(end).toISOString(), periodSeconds }
}

/** One sentence for the agent: "your access to orders-db through dba-read ends at 10:42 UTC". */
export function accessPeriodText(period: AccessPeriod, grantId: string, connection?: string): string {
  const what = `your access ${connection === undefined ? '' : `to ${connection} `}through ${grantId}`
  const end = period.endsAt === undefined ? undefined : utcTimeOfDay(Date.parse(period.endsAt))
  switch (period.status) {
    case 'active':
      return `${what} ends at ${end ?? '?'}`
    case 'ended':
      return `${what} ended at ${end ?? '?'}; sign in again to start a new period of ${durationText(period.periodSeconds)}`
    case 'not_started':
      return `${what} starts at your first call and lasts ${durationText(period.periodSeconds)}`
  }
}

/** The grants that decide some call of this identity now (a grant shadowed by an earlier one never starts a period). */
export function decidingGrants(policy: Policy, identity: PolicyIdentity, nowMs: number, tools: readonly ToolKinds[] | undefined): PolicyGrant[] {
  const explanation = explainAccess(policy, identity, nowMs, tools === undefined ? {} : { tools })
  const ids = new Set<string>()
  for (const tool of explanation.tools) {
    if (tool.connections.length === 0) ids.add(tool.grantId)
    for (const access of tool.connections) ids.add(access.grantId)
  }
  return policy.grants.filter((grant) => ids.has(grant.id))
}
