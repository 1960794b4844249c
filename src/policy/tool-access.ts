import type { ConnectionKind, NamedConnection } from './connection-schema.js'
import { grantIsExpired, grantNeedsApproval, type PolicyIdentity } from './grant-matches.js'
import { identityGrants } from './identity-grants.js'
import type { Grant } from './policy-schema.js'
import type { Policy } from './policy.js'

/** What policy needs to know about a tool: its name and the connection kinds it serves. */
export interface ToolKinds {
  readonly name: string
  readonly connectionKinds: readonly ConnectionKind[]
}

export interface ToolAccess {
  /** Grants usable now for this tool (identity matches, not expired, no approval), in policy order. */
  readonly grants: readonly Grant[]
  /** Connections those grants reach that the tool can use: deduplicated, in policy order. */
  readonly connections: readonly NamedConnection[]
}

/**
 * The caller's usable grants for one tool and the connections they reach (tools/list, the
 * `connection` enum). With `withApproval`, grants whose calls need a human approval count too
 * (tools/list shows those tools, so the agent can ask).
 */
export function toolAccess(policy: Policy, principal: PolicyIdentity, tool: ToolKinds, nowMs: number, withApproval = false): ToolAccess {
  const grants = identityGrants(policy, principal)
    .forTool(tool.name)
    .filter((g) => !grantIsExpired(g, nowMs) && (withApproval || !grantNeedsApproval(g)))
  const seen = new Set<string>()
  const connections: NamedConnection[] = []
  if (tool.connectionKinds.length > 0) {
    for (const grant of grants) {
      for (const id of grant.connections) {
        const connection = policy.connections.get(id)
        if (connection === undefined || seen.has(id) || !tool.connectionKinds.includes(connection.kind)) continue
        seen.add(id)
        connections.push(connection)
      }
    }
  }
  // A tool that needs a connection is usable only if some grant reaches one it can use.
  const usable = tool.connectionKinds.length === 0 ? grants : grants.filter((g) => g.connections.some((id) => seen.has(id)))
  return { grants: usable, connections }
}
