import { isBuiltInGrant } from './approver-grant.js'
import { toolScopesKey } from './build-policy.js'
import { formatIssuePath, type PolicyIssue } from './policy-issue.js'
import type { Policy } from './policy.js'
import type { ToolKinds } from './tool-access.js'

/**
 * Checks a built policy against the gateway's tools: every tool a grant names exists, and a tool
 * that needs a connection reaches at least one of a kind it serves through that grant. `toolScopes`
 * names only tools that exist (a misspelt name would leave the real tool without its scopes).
 */
export function checkToolReferences(policy: Policy, tools: readonly ToolKinds[]): PolicyIssue[] {
  const issues: PolicyIssue[] = []
  const indexInFile = new Map<string, number>()
  for (const grant of policy.grants) {
    if (isBuiltInGrant(grant)) continue
    const source = policy.sources.get(grant.id) ?? ''
    // Grants keep file order, so counting per source recovers each grant's index in its file.
    const index = indexInFile.get(source) ?? 0
    indexInFile.set(source, index + 1)
    grant.tools.forEach((name, j) => {
      const path = `grants[${index}].tools[${j}]`
      const tool = tools.find((t) => t.name === name)
      if (tool === undefined) {
        issues.push({ source, path, message: `unknown tool ${JSON.stringify(name)}; known tools: ${tools.map((t) => t.name).join(', ')}` })
        return
      }
      if (tool.connectionKinds.length === 0) return
      const reaches = grant.connections.some((id) => {
        const connection = policy.connections.get(id)
        return connection !== undefined && tool.connectionKinds.includes(connection.kind)
      })
      if (!reaches) {
        issues.push({
          source,
          path,
          message: `tool ${name} needs a connection of kind ${tool.connectionKinds.join(' or ')}, and this grant lists none`,
        })
      }
    })
  }
  for (const tool of policy.toolScopes.keys()) {
    if (tools.some((t) => t.name === tool)) continue
    issues.push({
      source: policy.sources.get(toolScopesKey(tool)) ?? '',
      path: formatIssuePath(['toolScopes', tool]),
      message: `unknown tool ${JSON.stringify(tool)}; known tools: ${tools.map((t) => t.name).join(', ')}`,
    })
  }
  return issues
}
