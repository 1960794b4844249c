import { approvalAccessSeconds, mayApprove } from './approver-grant.js'
import type { ConnectionKind } from './connection-schema.js'
import { grantIsExpired, grantMatchesIdentity, grantNeedsApproval, grantTtlSeconds, type PolicyIdentity } from './grant-matches.js'
import type { KubectlConstraints } from './kubectl-constraints.js'
import type { Grant, GrantCallLimits } from './policy-schema.js'
import type { Policy } from './policy.js'
import type { SqlConstraints } from './sql-constraints.js'
import type { SsmConstraints } from './ssm-constraints.js'
import { toolAccess, type ToolKinds } from './tool-access.js'

/** The limits a grant puts on calls it allows. Only the block for the connection's kind is shown. */
export interface GrantLimits {
  /** Length of an access period that starts now, in seconds (the ttl, capped at `notAfter`). */
  readonly ttlSeconds: number
  readonly notAfter?: string
  /** The grant's own calls-per-minute and concurrent-calls limits (per subject). */
  readonly calls?: GrantCallLimits
  readonly sql?: SqlConstraints
  readonly ssm?: SsmConstraints
  readonly kubectl?: KubectlConstraints
}

export interface ConnectionAccess {
  readonly connection: string
  readonly kind: ConnectionKind
  /** The grant that decides calls to this tool on this connection (first in policy order). */
  readonly grantId: string
  readonly limits: GrantLimits
}

export interface ToolExplanation {
  readonly tool: string
  /** The first usable grant for the tool; the deciding grant for tools that take no connection. */
  readonly grantId: string
  readonly limits: GrantLimits
  readonly connections: readonly ConnectionAccess[]
}

export interface PendingApproval {
  readonly grantId: string
  readonly tools: readonly string[]
  readonly connections: readonly string[]
  readonly approverGroups: readonly string[]
}

export interface ApprovalDuty {
  readonly grantId: string
  readonly tools: readonly string[]
  readonly connections: readonly string[]
  /** Who asks: the grant's groups and subjects. */
  readonly requesters: { readonly groups: readonly string[]; readonly subjects: readonly string[] }
  readonly use: 'once' | 'window'
  /** How long an approval lasts (window: accessTtl capped by the grant's ttl). */
  readonly accessSeconds: number
  readonly pendingSeconds: number
}

export interface AccessExplanation {
  /** Tools usable now, in the order they first appear in the policy. */
  readonly tools: readonly ToolExplanation[]
  /** Grants for this identity that need a human approval first (not usable yet). */
  readonly approvalRequired: readonly PendingApproval[]
  /** Approval grants (anyone's) whose requests this identity may approve or deny, with how an approval is used. */
  readonly approves: readonly ApprovalDuty[]
  /** Grants for this identity whose `notAfter` has passed. */
  readonly expired: readonly { readonly grantId: string; readonly notAfter: string }[]
}

export interface ExplainOptions {
  /** The gateway's tools; when given, connections are listed only under tools that can use their kind. */
  readonly tools?: readonly ToolKinds[]
}

const ALL_KINDS: readonly ConnectionKind[] = ['rds-data', 'ssm', 'eks']

/**
 * What an identity may do under a policy, and which grant gives each tool and connection; agrees
 * with {@link evaluate} on the deciding grant. Used by `policy explain` and `list_connections`.
 */
export function explainAccess(policy: Policy, identity: PolicyIdentity, nowMs: number, options: ExplainOptions = {}): AccessExplanation {
  const mine = policy.grants.filter((g) => grantMatchesIdentity(g, identity))
  const toolNames: string[] = []
  for (const grant of mine) for (const name of grant.tools) if (!toolNames.includes(name)) toolNames.push(name)

  const tools: ToolExplanation[] = []
  for (const name of toolNames) {
    const known = options.tools?.find((t) => t.name === name)
    const kinds = known?.connectionKinds ?? guessKinds(mine, name, nowMs)
    const access = toolAccess(policy, identity, { name, connectionKinds: kinds }, nowMs)
    const first = access.grants[0]
    if (first === undefined) continue
    const connections = access.connections.flatMap((connection): ConnectionAccess[] => {
      const decider = access.grants.find((g) => g.connections.includes(connection.id))
      if (decider === undefined) return []
      return [{ connection: connection.id, kind: connection.kind, grantId: decider.id, limits: limitsFor(decider, connection.kind, nowMs) }]
    })
    tools.push({ tool: name, grantId: first.id, limits: limitsFor(first, undefined, nowMs), connections })
  }

  const approvalRequired = mine
    .filter((g) => grantNeedsApproval(g) && !grantIsExpired(g, nowMs))
    .map((g) => ({ grantId: g.id, tools: g.tools, connections: g.connections, approverGroups: g.approval?.approverGroups ?? [] }))
  const approves = policy.grants
    .filter((g) => mayApprove(g, identity.groups) && !grantIsExpired(g, nowMs))
    .map((g) => ({
      grantId: g.id,
      tools: g.tools,
      connections: g.connections,
      requesters: { groups: g.groups, subjects: g.subjects },
      use: g.approval?.use ?? 'once',
      accessSeconds: approvalAccessSeconds(g),
      pendingSeconds: g.approval?.pendingTtl ?? 0,
    }))
  const expired = mine
    .filter((g) => grantIsExpired(g, nowMs))
    .map((g) => ({ grantId: g.id, notAfter: g.notAfter ?? '' }))
  return { tools, approvalRequired, approves, expired }
}

// Without the tool's declared kinds, a tool whose first usable grant reaches no connection is taken to need none.
function guessKinds(grants: readonly Grant[], tool: string, nowMs: number): readonly ConnectionKind[] {
  const first = grants.find((g) => g.tools.includes(tool) && !grantIsExpired(g, nowMs) && !grantNeedsApproval(g))
  return first !== undefined && first.connections.length > 0 ? ALL_KINDS : []
}

function limitsFor(grant: Grant, kind: ConnectionKind | undefined, nowMs: number): GrantLimits {
  return {
    ttlSeconds: grantTtlSeconds(grant, nowMs),
    ...(grant.notAfter === undefined ? {} : { notAfter: grant.notAfter }),
    ...(grant.limits === undefined ? {} : { calls: grant.limits }),
    ...(kind === 'rds-data' && grant.sql !== undefined ? { sql: grant.sql } : {}),
    // Only what the policy says: a resolved block also carries its parsed templates.
    ...(kind === 'ssm' && grant.ssm !== undefined ? { ssm: { commands: grant.ssm.commands, timeoutSeconds: grant.ssm.timeoutSeconds, maxOutputBytes: grant.ssm.maxOutputBytes } } : {}),
    ...(kind === 'eks' && grant.kubectl !== undefined ? { kubectl: grant.kubectl } : {}),
  }
}
