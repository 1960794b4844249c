import { grantMatchesIdentity, type PolicyIdentity } from './grant-matches.js'
import type { Policy, PolicyGrant } from './policy.js'

/** The grants of one policy that match one identity, in policy order, and those that list a tool. */
export interface IdentityGrants {
  readonly all: readonly PolicyGrant[]
  forTool(tool: string): readonly PolicyGrant[]
}

/** Identities remembered per policy; past it the memory starts over (a policy reload does too). */
export const MAX_IDENTITIES = 10_000
/** Tool names remembered per identity: they come from callers, so unknown names must not grow it. */
export const MAX_TOOLS = 64

const memory = new WeakMap<Policy, Map<string, IdentityGrants>>()

function entry(policy: Policy, identity: PolicyIdentity): IdentityGrants {
  const all = policy.grants.filter((g) => grantMatchesIdentity(g, identity))
  const byTool = new Map<string, readonly PolicyGrant[]>()
  return {
    all,
    forTool(tool) {
      const known = byTool.get(tool)
      if (known !== undefined) return known
      const grants = all.filter((g) => g.tools.includes(tool))
      if (byTool.size < MAX_TOOLS) byTool.set(tool, grants)
      return grants
    },
  }
}

/**
 * The grants matching `identity` (see grantMatchesIdentity), worked out once per policy and
 * identity: every request of a caller asks the same question of the same immutable policy, and
 * with hundreds of grants the scan was most of a decision's cost. Time-dependent checks (notAfter)
 * stay with the caller.
 */
export function identityGrants(policy: Policy, identity: PolicyIdentity): IdentityGrants {
  let byIdentity = memory.get(policy)
  if (byIdentity === undefined) {
    byIdentity = new Map()
    memory.set(policy, byIdentity)
  }
  // JSON keeps every subject and group list distinct (no separator a group name could contain).
  const key = JSON.stringify([identity.subject ?? null, identity.groups])
  const known = byIdentity.get(key)
  if (known !== undefined) return known
  const computed = entry(policy, identity)
  if (byIdentity.size >= MAX_IDENTITIES) byIdentity.clear()
  byIdentity.set(key, computed)
  return computed
}
