import { z } from 'zod'
import type { NamedConnection } from '../src/policy/connection-schema.js'
import { explainAccess, type GrantLimits } from '../src/policy/explain-access.js'
import { accessPeriod, accessPeriodText, type AccessPeriod } from './access-period.js'
import { defineTool } from './define-tool.js'

/** What a connection is, without ARNs or secrets: enough for an agent to choose one. */
function describeTarget(connection: NamedConnection): Record<string, unknown> {
  switch (connection.kind) {
    case 'rds-data':
      return { engine: connection.engine, database: connection.database }
    case 'ssm':
      return { instanceIds: connection.instanceIds ?? [], targets: connection.targets ?? {} }
    case 'eks':
      return { cluster: connection.cluster }
  }
}

function limitsText(limits: GrantLimits): string {
  const parts: string[] = []
  if (limits.calls?.callsPerMinute !== undefined) parts.push(`at most ${limits.calls.callsPerMinute} calls per minute`)
  if (limits.calls?.concurrentCalls !== undefined) parts.push(`at most ${limits.calls.concurrentCalls} at once`)
  if (limits.sql !== undefined) {
    parts.push(`${limits.sql.mode}, max ${limits.sql.maxRows} rows, ${limits.sql.timeoutSeconds}s timeout`)
    const masked = Object.keys(limits.sql.maskColumns)
    if (masked.length > 0) parts.push(`masked: ${masked.join(', ')}`)
  }
  if (limits.ssm !== undefined) parts.push(`commands: ${limits.ssm.commands.map((c) => c.join(' ')).join(' | ')}`)
  if (limits.kubectl !== undefined) {
    parts.push(`verbs ${limits.kubectl.verbs.join(',')}; resources ${limits.kubectl.resources.join(',')}; namespaces ${limits.kubectl.namespaces.join(',')}`)
  }
  return parts.join('; ')
}

const limitsSchema = z.object({
  ttlSeconds: z.number(),
  notAfter: z.string().optional(),
  calls: z.object({ callsPerMinute: z.number().optional(), concurrentCalls: z.number().optional() }).optional(),
  sql: z.record(z.string(), z.unknown()).optional(),
  ssm: z.record(z.string(), z.unknown()).optional(),
  kubectl: z.record(z.string(), z.unknown()).optional(),
})

/** The connections the caller may reach, per tool, with the grant and limits that apply. */
export default defineTool({
  name: 'list_connections',
  title: 'List connections',
  description:
    'Lists the connections (databases, instance fleets, clusters) you may reach, which tools you may use on each, ' +
    'the limits that apply (read-only, row caps, allowed commands, namespaces), the grant that gives you each, and when your ' +
    'access through that grant ends (it starts at your first call under the grant).',
  connectionKinds: [],
  input: {},
  output: {
    connections: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        description: z.string().optional(),
        region: z.string(),
        target: z.record(z.string(), z.unknown()),
        tools: z.array(
          z.object({
            tool: z.string(),
            grantId: z.string(),
            limits: limitsSchema,
            access: z.object({ status: z.enum(['active', 'ended', 'not_started']), endsAt: z.string().optional(), periodSeconds: z.number() }),
          }),
        ),
      }),
    ),
    approvalRequired: z.array(z.object({ grantId: z.string(), tools: z.array(z.string()), connections: z.array(z.string()) })),
  },
  annotations: () => ({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }),
  async handler({ principal, policy, deps, activations }) {
    const now = deps.clock.now()
    const explanation = explainAccess(policy, principal, now, deps.tools === undefined ? {} : { tools: deps.tools })
    const byId = new Map<string, { connection: NamedConnection; tools: { tool: string; grantId: string; limits: GrantLimits }[] }>()
    for (const tool of explanation.tools) {
      for (const access of tool.connections) {
        const connection = policy.connections.get(access.connection)
        if (connection === undefined) continue
        const entry = byId.get(connection.id) ?? { connection, tools: [] }
        entry.tools.push({ tool: tool.tool, grantId: access.grantId, limits: access.limits })
        byId.set(connection.id, entry)
      }
    }
    const grantIds = [...new Set([...byId.values()].flatMap(({ tools }) => tools.map((t) => t.grantId)))]
    const stored = await activations(grantIds)
    const periods = new Map<string, AccessPeriod>()
    for (const grant of policy.grants) if (grantIds.includes(grant.id)) periods.set(grant.id, accessPeriod(grant, stored.get(grant.id), now))
    const connections = [...byId.values()].map(({ connection, tools }) => ({
      id: connection.id,
      kind: connection.kind,
      ...(connection.description === undefined ? {} : { description: connection.description }),
      region: connection.region,
      target: describeTarget(connection),
      tools: tools.map((t) => ({ ...t, limits: { ...t.limits }, access: { ...(periods.get(t.grantId) ?? { status: 'not_started' as const, periodSeconds: t.limits.ttlSeconds }) } })),
    }))
    const approvalRequired = explanation.approvalRequired.map((a) => ({ grantId: a.grantId, tools: [...a.tools], connections: [...a.connections] }))
    const lines = connections.length === 0 ? ['You have no connections.'] : []
    for (const c of connections) {
      lines.push(`${c.id} (${c.kind}, ${c.region})${c.description === undefined ? '' : `: ${c.description}`}`)
      for (const t of c.tools) {
        const limits = limitsText(t.limits)
        lines.push(`  ${t.tool}: ${accessPeriodText(t.access, t.grantId, c.id)}${limits === '' ? '' : `; ${limits}`}`)
      }
    }
    for (const a of approvalRequired) lines.push(`needs approval: grant ${a.grantId} (${a.tools.join(', ')} on ${a.connections.join(', ') || 'no connection'})`)
    return { text: lines.join('\n'), structured: { connections, approvalRequired } }
  },
})
