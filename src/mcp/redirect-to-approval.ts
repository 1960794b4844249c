import { approvalGrantFor, type Decision } from '../policy/evaluate.js'
import type { PolicyIdentity } from '../policy/grant-matches.js'
import type { Policy } from '../policy/policy.js'
import { APPROVAL_REASON_ARG } from './approval-call.js'
import type { ToolCatalog } from './tool-catalog.js'

/**
 * An allowed call whose arguments the deciding grant's constraints refuse, when an approval grant
 * for the same tool and connection permits them, goes to that approval instead (bob's read grant
 * on a cluster must not hide the approval grant of his restart). Otherwise the decision stands.
 */
export function redirectToApproval(decision: Decision, entry: ReturnType<ToolCatalog['find']>, raw: Record<string, unknown>, request: { readonly policy: Policy; readonly principal: PolicyIdentity }, now: number): Decision {
  const permits = entry?.tool.permits
  if (!decision.allow || permits === undefined || entry === undefined) return decision
  const { [APPROVAL_REASON_ARG]: _reason, ...args } = raw
  const parsed = entry.args.safeParse(args)
  if (!parsed.success || permits(decision.grant, parsed.data)) return decision
  const alternative = approvalGrantFor(request.policy, request.principal, { tool: entry.tool.name, connectionKinds: entry.tool.connectionKinds, connection: decision.connection?.id }, now)
  if (alternative === undefined || !permits(alternative.grant, parsed.data)) return decision
  return {
    allow: false,
    reason: 'APPROVAL_REQUIRED',
    message: `Tool ${entry.tool.name} needs approval under grant ${JSON.stringify(alternative.grant.id)} for this call.`,
    grantId: alternative.grant.id,
    grant: alternative.grant,
    connection: alternative.connection,
  }
}
