import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ConnectionKind } from '../../src/policy/connection-schema.js'
import { approvalGrantFor, evaluate, type DenyReason } from '../../src/policy/evaluate.js'
import { EVERYONE_GRANT } from '../../src/policy/everyone-grant.js'
import type { PolicyIdentity } from '../../src/policy/grant-matches.js'
import { eks, policyOf, rds, ssm } from './policy-fixture.js'

const NOW = Date.parse('2026-06-01T12:00:00Z')

const policy = policyOf({
  version: 1,
  connections: { 'orders-db': rds, 'reports-db': rds, 'web-fleet': ssm, 'demo-cluster': eks },
  grants: [
    { id: 'basics', groups: ['dba', 'sre'], tools: ['whoami'] },
    { id: 'dba-read', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'], ttl: '15m', sql: { maxRows: 200 } },
    { id: 'dba-write', groups: ['dba'], connections: ['orders-db', 'reports-db'], tools: ['sql_query'], ttl: '5m', sql: { mode: 'read-write' } },
    { id: 'alice-only', subjects: ['alice'], connections: ['web-fleet'], tools: ['ssm_run'], ssm: { commands: [['uptime']] } },
    { id: 'old', groups: ['contractors'], connections: ['orders-db'], tools: ['sql_query'], notAfter: '2026-06-01T12:00:00Z', sql: {} },
    { id: 'soon', groups: ['temps'], connections: ['orders-db'], tools: ['sql_query'], ttl: '1h', notAfter: '2026-06-01T12:05:00Z', sql: {} },
    {
      id: 'restart',
      groups: ['sre'],
      connections: ['demo-cluster'],
      tools: ['kubectl'],
      approval: { approverGroups: ['leads'] },
      kubectl: { verbs: ['rollout-restart'], resources: ['deployments'], namespaces: ['shop'] },
    },
    {
      id: 'read-cluster',
      groups: ['viewers'],
      connections: ['demo-cluster'],
      tools: ['kubectl'],
      kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['shop'] },
    },
    {
      id: 'viewers-restart',
      groups: ['viewers'],
      connections: ['demo-cluster'],
      tools: ['kubectl'],
      approval: { approverGroups: ['leads'] },
      kubectl: { verbs: ['rollout-restart'], resources: ['deployments'], namespaces: ['shop'] },
    },
    { id: 'expired-restart', groups: ['ops'], connections: ['demo-cluster'], tools: ['kubectl'], notAfter: '2026-01-01T00:00:00Z', approval: { approverGroups: ['leads'] }, kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['x'] } },
  ],
})

type ToolRequest = { tool: string; connectionKinds: ConnectionKind[] }
const SQL: ToolRequest = { tool: 'sql_query', connectionKinds: ['rds-data'] }
const SSM: ToolRequest = { tool: 'ssm_run', connectionKinds: ['ssm'] }
const KUBE: ToolRequest = { tool: 'kubectl', connectionKinds: ['eks'] }
const WHOAMI: ToolRequest = { tool: 'whoami', connectionKinds: [] }

const dba: PolicyIdentity = { groups: ['dba'], subject: 'bob' }
const sre: PolicyIdentity = { groups: ['sre'], subject: 'carol' }

interface Row {
  readonly name: string
  readonly who: PolicyIdentity
  readonly request: { tool: string; connectionKinds: ConnectionKind[]; connection?: string }
  readonly now?: number
}
type DenyRow = Row & { readonly reason: DenyReason; readonly grantId?: string }
type AllowRow = Row & { readonly grantId: string; readonly ttlSeconds: number }

const denies: DenyRow[] = [
  { name: 'no groups at all (mallory)', who: { groups: [], subject: 'mallory' }, request: { ...SQL, connection: 'orders-db' }, reason: 'NO_GRANT' },
  { name: 'wrong group', who: { groups: ['analysts'], subject: 'x' }, request: { ...SQL, connection: 'orders-db' }, reason: 'NO_GRANT' },
  { name: 'group case differs', who: { groups: ['DBA'], subject: 'x' }, request: { ...SQL, connection: 'orders-db' }, reason: 'NO_GRANT' },
  { name: 'subject case differs', who: { groups: [], subject: 'Alice' }, request: { ...SSM, connection: 'web-fleet' }, reason: 'NO_GRANT' },
  { name: 'subject given as a group', who: { groups: ['alice'] }, request: { ...SSM, connection: 'web-fleet' }, reason: 'NO_GRANT' },
  { name: 'tool not granted', who: dba, request: { ...SSM, connection: 'web-fleet' }, reason: 'NO_GRANT' },
  { name: 'unknown tool', who: dba, request: { tool: 'drop_database', connectionKinds: ['rds-data'], connection: 'orders-db' }, reason: 'NO_GRANT' },
  { name: 'connection not granted', who: sre, request: { ...KUBE, connection: 'orders-db' }, reason: 'CONNECTION_NOT_GRANTED' },
  { name: 'connection of another grant only', who: { groups: ['temps'] }, request: { ...SQL, connection: 'reports-db' }, reason: 'CONNECTION_NOT_GRANTED' },
  { name: 'unknown connection', who: dba, request: { ...SQL, connection: 'orders-dbx' }, reason: 'UNKNOWN_CONNECTION' },
  { name: 'missing connection', who: dba, request: SQL, reason: 'CONNECTION_REQUIRED' },
  { name: 'empty connection id', who: dba, request: { ...SQL, connection: '' }, reason: 'CONNECTION_REQUIRED' },
  { name: 'connection given to a connection-less tool', who: dba, request: { ...WHOAMI, connection: 'orders-db' }, reason: 'CONNECTION_NOT_EXPECTED' },
  { name: 'wrong kind (granted elsewhere)', who: { groups: ['dba'], subject: 'alice' }, request: { ...SQL, connection: 'web-fleet' }, reason: 'WRONG_CONNECTION_KIND' },
  { name: 'wrong kind, not granted at all', who: dba, request: { ...SQL, connection: 'demo-cluster' }, reason: 'CONNECTION_NOT_GRANTED' },
  { name: 'expired exactly at notAfter', who: { groups: ['contractors'] }, request: { ...SQL, connection: 'orders-db' }, reason: 'GRANT_EXPIRED', grantId: 'old' },
  { name: 'expired after notAfter', who: { groups: ['temps'] }, request: { ...SQL, connection: 'orders-db' }, now: NOW + 5 * 60_000, reason: 'GRANT_EXPIRED', grantId: 'soon' },
  { name: 'approval-only grant', who: sre, request: { ...KUBE, connection: 'demo-cluster' }, reason: 'APPROVAL_REQUIRED', grantId: 'restart' },
  { name: 'expired approval grant', who: { groups: ['ops'] }, request: { ...KUBE, connection: 'demo-cluster' }, reason: 'GRANT_EXPIRED', grantId: 'expired-restart' },
]

const allows: AllowRow[] = [
  { name: 'group grants a connection-less tool', who: sre, request: WHOAMI, grantId: 'basics', ttlSeconds: 900 },
  { name: 'first matching grant wins', who: dba, request: { ...SQL, connection: 'orders-db' }, grantId: 'dba-read', ttlSeconds: 900 },
  { name: 'a later grant reaches another connection', who: dba, request: { ...SQL, connection: 'reports-db' }, grantId: 'dba-write', ttlSeconds: 300 },
  { name: 'exact subject', who: { groups: [], subject: 'alice' }, request: { ...SSM, connection: 'web-fleet' }, grantId: 'alice-only', ttlSeconds: 900 },
  { name: 'ttl capped at notAfter', who: { groups: ['temps'] }, request: { ...SQL, connection: 'orders-db' }, now: NOW + 60_000, grantId: 'soon', ttlSeconds: 240 },
  { name: 'usable grant beats an approval grant', who: { groups: ['viewers'] }, request: { ...KUBE, connection: 'demo-cluster' }, grantId: 'read-cluster', ttlSeconds: 900 },
]

describe('evaluate', () => {
  it('has more deny rows than allow rows', () => {
    assert.ok(denies.length > allows.length, 'more deny rows than allow rows')
  })

  for (const row of denies) {
    it(`denies: ${row.name}`, () => {
      const decision = evaluate(policy, row.who, row.request, row.now ?? NOW)
      assert.equal(decision.allow, false)
      if (decision.allow) return
      assert.equal(decision.reason, row.reason)
      assert.equal(decision.grantId, row.grantId)
      // A deny that no grant decided carries no grantId key at all (not one set to undefined).
      assert.equal(Object.hasOwn(decision, 'grantId'), row.grantId !== undefined)
      assert.match(decision.message, /^[A-Z].*\.$/)
    })
  }

  for (const row of allows) {
    it(`allows: ${row.name}`, () => {
      const decision = evaluate(policy, row.who, row.request, row.now ?? NOW)
      assert.equal(decision.allow, true, decision.allow ? '' : decision.message)
      if (!decision.allow) return
      assert.equal(decision.grantId, row.grantId)
      assert.equal(decision.grant.id, row.grantId)
      assert.equal(decision.ttlSeconds, row.ttlSeconds)
      assert.equal(decision.connection?.id, row.request.connection)
    })
  }

  it('denies everything under an empty policy', () => {
    const empty = policyOf({ version: 1 })
    for (const request of [WHOAMI, { ...SQL, connection: 'orders-db' }]) {
      const decision = evaluate(empty, dba, request, NOW)
      assert.deepEqual(decision.allow ? 'allowed' : decision.reason, 'NO_GRANT')
    }
  })

  it('does not tell unknown connections apart from ungranted ones', () => {
    const unknown = evaluate(policy, dba, { ...SQL, connection: 'secret-db' }, NOW)
    const ungranted = evaluate(policy, { groups: ['temps'] }, { ...SQL, connection: 'reports-db' }, NOW)
    assert.ok(!unknown.allow && !ungranted.allow, 'both requests are denied')
    assert.equal(unknown.message.replace('secret-db', 'X'), ungranted.message.replace('reports-db', 'X'))
  })

  it('names only the caller’s own grant and the id they gave', () => {
    const decision = evaluate(policy, sre, { ...KUBE, connection: 'demo-cluster' }, NOW)
    assert.ok(!decision.allow && decision.reason === 'APPROVAL_REQUIRED', 'an approval grant does not allow by itself')
    assert.equal(decision.message, 'Tool kubectl needs approval under grant "restart".')
    assert.equal(decision.grant.id, 'restart')
    assert.equal(decision.connection?.id, 'demo-cluster')
    for (const other of ['dba-read', 'dba-write', 'alice-only', 'arn:', 'demo"', 'us-east-1']) assert.ok(!decision.message.includes(other), other)
  })

  it('follows policy order across files', () => {
    const twoFiles = policyOf(
      { version: 1, connections: { 'orders-db': rds }, grants: [{ id: 'a-first', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'], ttl: '1m', sql: {} }] },
      { version: 1, grants: [{ id: 'b-second', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'], ttl: '2m', sql: {} }] },
    )
    const decision = evaluate(twoFiles, dba, { ...SQL, connection: 'orders-db' }, NOW)
    assert.ok(decision.allow, 'the first file’s grant allows')
    assert.equal(decision.grantId, 'a-first')
    assert.equal(decision.ttlSeconds, 60)
  })
})

describe('evaluate: a tool open to everyone', () => {
  const nobody: PolicyIdentity = { groups: ['interns'], subject: 'zed' }
  const OPEN = { ...WHOAMI, openToEveryone: true }

  it('allows a caller without any grant under the built-in grant, with no connection', () => {
    const decision = evaluate(policy, nobody, OPEN, NOW)
    assert.ok(decision.allow, 'an open tool is allowed to a caller without grants')
    assert.equal(decision.grantId, EVERYONE_GRANT.id)
    assert.equal(decision.grant, EVERYONE_GRANT)
    assert.equal(decision.connection, undefined)
    assert.equal(decision.ttlSeconds, EVERYONE_GRANT.ttl)
  })

  it('uses the caller’s own grant first', () => {
    const decision = evaluate(policy, sre, OPEN, NOW)
    assert.ok(decision.allow, 'sre holds a grant for whoami')
    assert.equal(decision.grantId, 'basics')
    assert.equal(decision.ttlSeconds, 900)
  })

  it('denies when the tool is not marked open, or takes connections, or the call names one', () => {
    for (const [name, request] of [
      ['not marked open', WHOAMI],
      ['marked not open', { ...WHOAMI, openToEveryone: false }],
      ['a tool with connection kinds', { ...SQL, openToEveryone: true }],
      ['a tool with connection kinds, connection named', { ...SQL, openToEveryone: true, connection: 'orders-db' }],
      ['a connection named', { ...OPEN, connection: 'orders-db' }],
    ] as const) {
      const decision = evaluate(policy, nobody, request, NOW)
      assert.ok(!decision.allow, `denied: ${name}`)
      assert.equal(decision.reason, 'NO_GRANT', name)
    }
  })
})

describe('approvalGrantFor', () => {
  const asked = policyOf({
    version: 1,
    connections: { 'demo-cluster': eks, 'other-cluster': eks, 'orders-db': rds },
    grants: [
      { id: 'get-pods', groups: ['sre'], connections: ['demo-cluster'], tools: ['kubectl'], kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['shop'] } },
      { id: 'old-restart', groups: ['sre'], connections: ['demo-cluster'], tools: ['kubectl'], notAfter: '2026-06-01T12:00:00Z', approval: { approverGroups: ['leads'] }, kubectl: { verbs: ['rollout-restart'], resources: ['deployments'], namespaces: ['shop'] } },
      { id: 'restart', groups: ['sre'], connections: ['demo-cluster'], tools: ['kubectl'], notAfter: '2026-06-01T12:05:00Z', approval: { approverGroups: ['leads'] }, kubectl: { verbs: ['rollout-restart'], resources: ['deployments'], namespaces: ['shop'] } },
      { id: 'ops-other', groups: ['ops'], connections: ['other-cluster'], tools: ['kubectl'], approval: { approverGroups: ['leads'] }, kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['shop'] } },
      { id: 'dba-read', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'], sql: {} },
    ],
  })
  const at = (request: { tool: string; connectionKinds: ConnectionKind[]; connection?: string }, who: PolicyIdentity = sre, now = NOW) =>
    approvalGrantFor(asked, who, request, now)?.grant.id

  it('finds the first live approval grant even where another grant allows the call', () => {
    assert.ok(evaluate(asked, sre, { ...KUBE, connection: 'demo-cluster' }, NOW).allow, 'get-pods allows the call itself')
    const found = approvalGrantFor(asked, sre, { ...KUBE, connection: 'demo-cluster' }, NOW)
    assert.equal(found?.grant.id, 'restart', 'old-restart expired exactly at its notAfter')
    assert.equal(found?.connection?.id, 'demo-cluster')
    assert.equal(at({ ...KUBE, connection: 'other-cluster' }, { groups: ['ops'] }), 'ops-other')
  })

  it('finds none for an expired grant, another connection, a wrong or unknown connection, or none named', () => {
    assert.equal(at({ ...KUBE, connection: 'demo-cluster' }, sre, NOW + 5 * 60_000), undefined, 'restart expired at its notAfter')
    assert.equal(at({ ...KUBE, connection: 'other-cluster' }), undefined, 'sre has no approval grant there')
    assert.equal(at({ ...KUBE, connection: 'demo-cluster' }, { groups: ['ops'] }), undefined, 'ops has one only for other-cluster')
    assert.equal(at({ ...KUBE, connection: 'orders-db' }), undefined, 'orders-db is not a cluster')
    assert.equal(at({ ...KUBE, connection: 'nowhere' }), undefined, 'unknown connection')
    assert.equal(at(KUBE), undefined, 'a tool with connection kinds and no connection named')
    assert.equal(at({ ...SQL, connection: 'orders-db' }, dba), undefined, 'dba-read needs no approval')
    assert.equal(at({ ...KUBE, connection: 'demo-cluster' }, dba), undefined, 'dba holds no kubectl grant')
  })

  it('finds none when the named connection is of a kind the tool cannot use, though the grant lists it', () => {
    const mixed = policyOf({
      version: 1,
      connections: { 'demo-cluster': eks, 'orders-db': rds },
      grants: [
        {
          id: 'ask-both',
          groups: ['sre'],
          connections: ['demo-cluster', 'orders-db'],
          tools: ['kubectl', 'sql_query'],
          approval: { approverGroups: ['leads'] },
          kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['shop'] },
          sql: {},
        },
      ],
    })
    assert.equal(approvalGrantFor(mixed, sre, { ...KUBE, connection: 'demo-cluster' }, NOW)?.grant.id, 'ask-both')
    assert.equal(approvalGrantFor(mixed, sre, { ...SQL, connection: 'orders-db' }, NOW)?.grant.id, 'ask-both')
    assert.equal(approvalGrantFor(mixed, sre, { ...KUBE, connection: 'orders-db' }, NOW), undefined, 'orders-db is not a cluster')
    assert.equal(approvalGrantFor(mixed, sre, { ...SQL, connection: 'demo-cluster' }, NOW), undefined, 'demo-cluster is not a database')
  })

  it('finds an approval grant of a tool without connections only when no connection is named', () => {
    const connectionless = policyOf({
      version: 1,
      connections: { 'orders-db': rds },
      grants: [{ id: 'ask', groups: ['x'], tools: ['list_connections'], approval: { approverGroups: ['leads'] } }],
    })
    const request = { tool: 'list_connections', connectionKinds: [] }
    assert.equal(approvalGrantFor(connectionless, { groups: ['x'] }, request, NOW)?.grant.id, 'ask')
    assert.equal(approvalGrantFor(connectionless, { groups: ['x'] }, { ...request, connection: 'orders-db' }, NOW), undefined, 'the grant lists no connection')
    assert.equal(approvalGrantFor(connectionless, { groups: ['y'] }, request, NOW), undefined, 'not the caller’s grant')
  })
})
