import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { buildPolicy } from '../../src/policy/build-policy.js'
import type { ConnectionKind } from '../../src/policy/connection-schema.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { formatPolicyIssue } from '../../src/policy/policy-issue.js'
import type { Policy } from '../../src/policy/policy.js'

const policiesUrl = new URL('../../policies/', import.meta.url)
const NOW = Date.parse('2026-06-01T12:00:00Z')

async function load(name: string): Promise<Policy> {
  const data: unknown = JSON.parse(await readFile(new URL(name, policiesUrl), 'utf8'))
  const result = buildPolicy([{ source: name, data }], { nowMs: NOW })
  if (!result.ok) assert.fail(result.issues.map(formatPolicyIssue).join('\n'))
  assert.deepEqual(result.warnings.map(formatPolicyIssue), [])
  return result.policy
}

describe('policies/demo.json', () => {
  it('validates and carries the sandbox values the emulators expect', async () => {
    const policy = await load('demo.json')
    const orders = policy.connections.get('orders-db')
    assert.deepEqual(orders, {
      id: 'orders-db',
      kind: 'rds-data',
      description: 'Demo orders database (Aurora PostgreSQL, Data API)',
      region: 'us-east-1',
      engine: 'postgres',
      database: 'orders',
      resourceArn: 'arn:aws:rds:us-east-1:111122223333:cluster:demo-orders',
      roleArn: 'arn:aws:iam::111122223333:role/airlock-orders-access',
      secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:demo-orders-rw-Ab12Cd',
      readOnlySecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:demo-orders-ro-Ef34Gh',
    })
    const fleet = policy.connections.get('web-fleet')
    assert.ok(fleet?.kind === 'ssm', 'expected: fleet?.kind === \'ssm\'')
    assert.deepEqual(fleet.instanceIds, ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002'])
    const cluster = policy.connections.get('demo-cluster')
    assert.ok(cluster?.kind === 'eks', 'expected: cluster?.kind === \'eks\'')
    assert.equal(cluster.cluster, 'demo')
    assert.deepEqual(policy.grants.map((g) => g.id), [
      'self-service', 'dba-orders-read', 'analysts-orders-write', 'sre-web-commands', 'sre-cluster-read', 'sre-cluster-restart', 'airlock.approvers',
    ])
    const read = policy.grants[1]
    assert.equal(read?.sql?.mode, 'read-only')
    assert.equal(read?.sql?.maxRows, 200)
    assert.deepEqual(read?.sql?.maskColumns, { '*.email': 'redact', 'customers.phone': 'last4' })
    assert.equal(read?.ttl, 900)
    assert.equal(policy.grants[2]?.sql?.mode, 'read-write')
    assert.equal(policy.grants[2]?.ttl, 600)
    assert.equal(policy.grants[3]?.ssm?.timeoutSeconds, 30)
    assert.equal(policy.grants[4]?.ttl, 1800)
    assert.deepEqual(policy.grants[5]?.approval, { approverGroups: ['sre-leads'], use: 'once', pendingTtl: 600, reasonRequired: true })
    assert.deepEqual(policy.grants[6]?.groups, ['sre-leads'], 'the built-in approver grant names every approver group')
  })

  it('gives each demo identity what the demo promises, and mallory nothing', async () => {
    const policy = await load('demo.json')
    const rows: [string[], string, ConnectionKind[], string | undefined, string][] = [
      [['dba'], 'sql_query', ['rds-data'], 'orders-db', 'dba-orders-read'],
      [['analysts'], 'sql_query', ['rds-data'], 'orders-db', 'analysts-orders-write'],
      [['sre'], 'ssm_run', ['ssm'], 'web-fleet', 'sre-web-commands'],
      [['sre'], 'kubectl', ['eks'], 'demo-cluster', 'sre-cluster-read'],
      [['sre'], 'whoami', [], undefined, 'self-service'],
      [['dba'], 'ssm_run', ['ssm'], 'web-fleet', 'NO_GRANT'],
      [['analysts'], 'kubectl', ['eks'], 'demo-cluster', 'NO_GRANT'],
      [['sre'], 'sql_query', ['rds-data'], 'orders-db', 'NO_GRANT'],
      [[], 'whoami', [], undefined, 'NO_GRANT'],
      [[], 'sql_query', ['rds-data'], 'orders-db', 'NO_GRANT'],
      [[], 'list_connections', [], undefined, 'NO_GRANT'],
    ]
    for (const [groups, tool, connectionKinds, connection, expected] of rows) {
      const decision = evaluate(policy, { groups, subject: groups.length === 0 ? 'mallory' : 'someone' }, { tool, connectionKinds, connection }, NOW)
      assert.equal(decision.allow ? decision.grantId : decision.reason, expected, `${groups.join(',')} ${tool}`)
    }
  })
})

describe('policies/examples', () => {
  it('every example validates', async () => {
    const names = (await readdir(new URL('examples/', policiesUrl))).filter((n) => n.endsWith('.json')).sort()
    assert.ok(names.length >= 3, 'expected: names.length >= 3')
    for (const name of names) await load(`examples/${name}`)
  })

  it('validate together with the demo (ids do not clash)', async () => {
    const names = ['demo.json', ...(await readdir(new URL('examples/', policiesUrl))).map((n) => `examples/${n}`)]
    const documents = await Promise.all(names.map(async (source) => ({ source, data: parseJson(await readFile(new URL(source, policiesUrl), 'utf8')) })))
    const result = buildPolicy(documents)
    assert.ok(result.ok, result.ok ? '' : result.issues.map(formatPolicyIssue).join('\n'))
  })
})

function parseJson(text: string): unknown {
  return JSON.parse(text)
}
