import type { Grant } from './policy-schema.js'
import { DEFAULT_TTL_SECONDS } from './policy-schema.js'
import type { PolicyGrant } from './policy.js'

/** The built-in grant that lets approvers review requests; no policy file may use this id. */
export const APPROVER_GRANT_ID = 'airlock.approvers'

/** The tools an approver's agent uses to review requests (see tools/list-requests.ts, tools/review-request.ts). */
export const APPROVER_TOOLS = ['list_requests', 'review_request'] as const

/** Every group that may approve something under this policy, in policy order, once each. */
export function approverGroupsOf(grants: readonly Grant[]): string[] {
  const groups: string[] = []
  for (const grant of grants) for (const group of grant.approval?.approverGroups ?? []) if (!groups.includes(group)) groups.push(group)
  return groups
}

/**
 * The grant derived from the policy's approval grants: members of any approver group may call the
 * review tools (they decide nothing by themselves: each decision checks the request's own grant).
 * Undefined when no grant needs approval.
 */
export function approverGrant(grants: readonly Grant[]): PolicyGrant | undefined {
  const groups = approverGroupsOf(grants)
  if (groups.length === 0) return undefined
  return {
    id: APPROVER_GRANT_ID,
    description: 'Built in: members of an approver group review approval requests.',
    groups,
    subjects: [],
    connections: [],
    tools: [...APPROVER_TOOLS],
    ttl: DEFAULT_TTL_SECONDS,
  }
}

/** Whether `grant` is the built-in approver grant rather than one from a policy file. */
export function isBuiltInGrant(grant: Pick<Grant, 'id'>): boolean {
  return grant.id === APPROVER_GRANT_ID
}

/** Whether this identity (by groups) may decide requests made under `grant`. */
export function mayApprove(grant: Grant, groups: readonly string[]): boolean {
  return grant.approval !== undefined && grant.approval.approverGroups.some((g) => groups.includes(g))
}

/** Seconds an approval of a window grant lasts: its `accessTtl`, capped by the grant's ttl. */
export function approvalAccessSeconds(grant: Grant): number {
  const approval = grant.approval
  if (approval === undefined) return 0
  return approval.use === 'window' ? Math.min(approval.accessTtl, grant.ttl) : grant.ttl
}
