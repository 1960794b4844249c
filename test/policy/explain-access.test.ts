import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ConnectionKind } from '../../src/policy/connection-schema.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { explainAccess } from '../../src/policy/explain-access.js'
import { toolAccess } from '../../src/policy/tool-access.js'
import { eks, policyOf, rds, ssm } from './policy-fixture.js'

const NOW = Date.parse('2026-06-01T12:00:00Z')
const TOOLS: { name: string; connectionKinds: ConnectionKind[] }[] = [
  { name: 'whoami', connectionKinds: [] },
  { name: 'sql_query', connectionKinds: ['rds-data'] },
  { name: 'ssm_run', connectionKinds: ['ssm'] },
  { name: 'kubectl', connectionKinds: ['eks'] },
]

const policy = policyOf({
  version: 1,
  connections: { 'orders-db': rds, 'reports-db': rds, 'web-fleet': ssm, 'demo-cluster': eks },
  grants: [
    { id: 'basics', groups: ['dba', 'sre'], tools: ['whoami'] },
    { id: 'read', groups: ['dba'], connections: ['orders-db', 'web-fleet'], tools: ['sql_query'], ttl: '15m', sql: { maxRows: 200 } },
    { id: 'write', groups: ['dba'], connections: ['reports-db', 'orders-db'], tools: ['sql_query'], ttl: '5m', sql: { mode: 'read-write' } },
    { id: 'gone', groups: ['dba'], connections: ['demo-cluster'], tools: ['kubectl'], notAfter: '2026-01-01T00:00:00Z', kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['a'] } },
    { id: 'restart', groups: ['dba'], connections: ['demo-cluster'], tools: ['kubectl'], approval: { approverGroups: ['leads'] }, kubectl: { verbs: ['rollout-restart'], resources: ['deployments'], namespaces: ['shop'] } },
  ],
  // web-fleet is reachable by "read" but is not a kind sql_query serves.
})
const dba = { groups: ['dba'], subject: 'bob' }

describe('toolAccess', () => {
  it('lists usable grants and the connections of the tool’s kinds, deduplicated in policy order', () => {
    const access = toolAccess(policy, dba, { name: 'sql_query', connectionKinds: ['rds-data'] }, NOW)
    assert.deepEqual(access.grants.map((g) => g.id), ['read', 'write'])
    assert.deepEqual(access.connections.map((c) => c.id), ['orders-db', 'reports-db'])
  })

  it('leaves out expired and approval-only grants', () => {
    const access = toolAccess(policy, dba, { name: 'kubectl', connectionKinds: ['eks'] }, NOW)
    assert.deepEqual(access, { grants: [], connections: [] })
  })

  it('gives connection-less tools no connections, and strangers nothing', () => {
    assert.deepEqual(toolAccess(policy, dba, { name: 'whoami', connectionKinds: [] }, NOW).connections, [])
    assert.deepEqual(toolAccess(policy, dba, { name: 'whoami', connectionKinds: [] }, NOW).grants.map((g) => g.id), ['basics'])
    assert.deepEqual(toolAccess(policy, { groups: [], subject: 'mallory' }, { name: 'whoami', connectionKinds: [] }, NOW).grants, [])
    assert.deepEqual(toolAccess(policy, { groups: ['DBA'] }, { name: 'sql_query', connectionKinds: ['rds-data'] }, NOW).connections, [])
  })

  it('drops a grant whose connections are all of other kinds', () => {
    const access = toolAccess(policy, dba, { name: 'sql_query', connectionKinds: ['eks'] }, NOW)
    assert.deepEqual(access, { grants: [], connections: [] })
  })
})

describe('explainAccess', () => {
  it('names the deciding grant and its limits per tool and connection', () => {
    const explained = explainAccess(policy, dba, NOW, { tools: TOOLS })
    assert.deepEqual(explained.tools.map((t) => t.tool), ['whoami', 'sql_query'])
    const sql = explained.tools[1]
    assert.deepEqual(sql?.connections.map((c) => [c.connection, c.grantId, c.limits.ttlSeconds, c.limits.sql?.mode]), [
      ['orders-db', 'read', 900, 'read-only'],
      ['reports-db', 'write', 300, 'read-write'],
    ])
    assert.equal(sql?.connections[0]?.limits.ssm, undefined)
    assert.deepEqual(explained.approvalRequired, [{ grantId: 'restart', tools: ['kubectl'], connections: ['demo-cluster'], approverGroups: ['leads'] }])
    assert.deepEqual(explained.expired, [{ grantId: 'gone', notAfter: '2026-01-01T00:00:00Z' }])
  })

  it('agrees with evaluate on every listed pair', () => {
    const explained = explainAccess(policy, dba, NOW, { tools: TOOLS })
    for (const tool of explained.tools) {
      const kinds = TOOLS.find((t) => t.name === tool.tool)?.connectionKinds ?? []
      const pairs = tool.connections.length === 0 ? [{ connection: undefined, grantId: tool.grantId }] : tool.connections
      for (const pair of pairs) {
        const decision = evaluate(policy, dba, { tool: tool.tool, connectionKinds: kinds, connection: pair.connection }, NOW)
        assert.ok(decision.allow, 'expected: decision.allow')
        assert.equal(decision.grantId, pair.grantId)
      }
    }
  })

  it('without tool kinds lists every connection a grant reaches', () => {
    const explained = explainAccess(policy, dba, NOW)
    assert.deepEqual(explained.tools.find((t) => t.tool === 'sql_query')?.connections.map((c) => c.connection), ['orders-db', 'web-fleet', 'reports-db'])
    assert.deepEqual(explained.tools.find((t) => t.tool === 'whoami')?.connections, [])
  })

  it('shows an ssm block as the policy wrote it, without the templates resolved for enforcement', () => {
    const shell = policyOf({
      version: 1,
      connections: { 'web-fleet': ssm },
      grants: [{ id: 'shell', groups: ['ops'], connections: ['web-fleet'], tools: ['ssm_run'], ssm: { commands: [['uptime']], timeoutSeconds: 20 } }],
    })
    assert.equal(shell.grants[0]?.ssm?.templates.length, 1)
    const explained = explainAccess(shell, { groups: ['ops'] }, NOW, { tools: TOOLS })
    const limits = explained.tools.find((t) => t.tool === 'ssm_run')?.connections[0]?.limits
    assert.deepEqual(limits?.ssm, { commands: [['uptime']], timeoutSeconds: 20, maxOutputBytes: 24_000 })
  })

  it('explains nothing for an identity without grants', () => {
    assert.deepEqual(explainAccess(policy, { groups: [], subject: 'mallory' }, NOW, { tools: TOOLS }), { tools: [], approvalRequired: [], approves: [], expired: [] })
  })
})
