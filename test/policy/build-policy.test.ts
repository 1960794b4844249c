import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildPolicy, type PolicyDocument } from '../../src/policy/build-policy.js'
import { formatPolicyIssue } from '../../src/policy/policy-issue.js'
import { eks, rds, ssm } from './policy-fixture.js'

function lines(documents: PolicyDocument[], nowMs?: number): string[] {
  const result = buildPolicy(documents, nowMs === undefined ? {} : { nowMs })
  assert.equal(result.ok, false, 'expected the policy to be refused')
  return result.ok ? [] : result.issues.map(formatPolicyIssue)
}

const grant = { id: 'g', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'] }
const READER = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:demo-orders-ro-Ef34Gh'
const file = (grants: unknown[], connections: Record<string, unknown> = { 'orders-db': rds }) => ({ version: 1, connections, grants })

describe('buildPolicy', () => {
  it('merges files in order and records where each id came from', () => {
    const result = buildPolicy([
      { source: 'a.json', data: file([grant]) },
      { source: 'b.json', data: { version: 1, connections: { 'web-fleet': ssm }, grants: [{ id: 'h', subjects: ['alice'], connections: ['web-fleet', 'orders-db'], tools: ['ssm_run'], ssm: { commands: [['uptime']] } }] } },
    ])
    assert.ok(result.ok, 'expected: result.ok')
    assert.deepEqual(result.policy.grants.map((g) => g.id), ['g', 'h'])
    assert.deepEqual([...result.policy.connections.keys()], ['orders-db', 'web-fleet'])
    assert.equal(result.policy.connections.get('web-fleet')?.id, 'web-fleet')
    assert.equal(result.policy.sources.get('h'), 'b.json')
    assert.equal(result.policy.sources.get('orders-db'), 'a.json')
    assert.ok(Object.isFrozen(result.policy.grants), 'expected: Object.isFrozen(result.policy.grants)')
    assert.ok(Object.isFrozen(result.policy.grants[1]?.connections), 'expected: Object.isFrozen(result.policy.grants[1]?.connections)')
    assert.ok(Object.isFrozen(result.policy.connections.get('web-fleet')), 'expected: Object.isFrozen(result.policy.connections.get(\'web-fleet\'))')
  })

  it('gives a grant on an rds-data connection the read-only sql defaults when it sets none', () => {
    const result = buildPolicy([{ source: 'a.json', data: file([grant]) }])
    assert.ok(result.ok, 'expected: result.ok')
    assert.equal(result.policy.grants[0]?.sql?.mode, 'read-only')
    assert.equal(result.policy.grants[0]?.sql?.maxRows, 1000)
  })

  it('resolves constraint blocks once: ssm templates are parsed and frozen in the built policy', () => {
    const result = buildPolicy([
      { source: 'a.json', data: { version: 1, connections: { 'web-fleet': ssm }, grants: [{ id: 'h', groups: ['ops'], connections: ['web-fleet'], tools: ['ssm_run'], ssm: { commands: [['uptime'], ['systemctl', 'status', '{unit}']] } }] } },
    ])
    assert.ok(result.ok, 'expected: result.ok')
    const block = result.policy.grants[0]?.ssm
    assert.deepEqual(block?.commands, [['uptime'], ['systemctl', 'status', '{unit}']])
    assert.deepEqual(block?.templates.map((t) => t.source), block?.commands)
    assert.deepEqual(block?.templates[1]?.parts.map((p) => p.kind), ['literal', 'literal', 'word'])
    assert.ok(Object.isFrozen(block?.templates[1]?.parts), 'expected: Object.isFrozen(block?.templates[1]?.parts)')
    assert.equal(result.policy.grants[0]?.sql, undefined)
  })

  it('reports an unknown key with a suggestion', () => {
    assert.deepEqual(lines([{ source: 'policies/prod.json', data: file([{ ...grant, tool: ['x'] }]) }]), [
      'policies/prod.json: grants[0]: unknown key "tool" (did you mean "tools"?)',
    ])
    assert.deepEqual(lines([{ source: 'p.json', data: { version: 1, grantz: [] } }]), ['p.json: unknown key "grantz" (did you mean "grants"?)'])
  })

  it('lists the allowed values of a bad enum', () => {
    assert.deepEqual(lines([{ source: 'policies/prod.json', data: file([grant, grant, grant, { ...grant, id: 'k', sql: { mode: 'rw' } }].map((g, i) => ({ ...g, id: `g${i}` }))) }]), [
      'policies/prod.json: grants[3].sql.mode: expected "read-only" | "read-write"',
    ])
  })

  it('names the path inside connections', () => {
    assert.deepEqual(lines([{ source: 'p.json', data: file([], { 'orders-db': { ...rds, region: 'useast1' }, cl: { ...eks, kind: 'gke' } }) }]), [
      'p.json: connections.orders-db.region: expected an AWS region such as "eu-west-1"',
      'p.json: connections.cl.kind: expected "rds-data" | "ssm" | "eks"',
    ])
  })

  it('reports duplicate ids across files, naming both files', () => {
    assert.deepEqual(lines([{ source: 'a.json', data: file([grant]) }, { source: 'b.json', data: file([grant]) }]), [
      'b.json: connections.orders-db: connection id "orders-db" is already used by a connection in a.json (connections.orders-db)',
      'b.json: grants[0].id: grant id "g" is already used by a grant in a.json (grants[0].id)',
    ])
  })

  it('refuses a grant id that is also a connection id', () => {
    assert.deepEqual(lines([{ source: 'a.json', data: file([{ ...grant, id: 'orders-db' }]) }]), [
      'a.json: grants[0].id: grant id "orders-db" is already used by a connection in connections.orders-db',
    ])
  })

  it('reports a dangling connection reference, also across files', () => {
    assert.deepEqual(lines([{ source: 'a.json', data: file([{ ...grant, connections: ['orders-db', 'orders-dbx'] }]) }]), [
      'a.json: grants[0].connections[1]: unknown connection "orders-dbx"',
    ])
    const ok = buildPolicy([{ source: 'a.json', data: file([]) }, { source: 'b.json', data: { version: 1, grants: [grant] } }])
    assert.ok(ok.ok, 'expected: ok.ok')
  })

  it('refuses constraint blocks for kinds the grant does not reach', () => {
    assert.deepEqual(lines([{ source: 'a.json', data: file([{ ...grant, kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['shop'] }, ssm: { commands: [['uptime']] } }]) }]), [
      'a.json: grants[0].ssm: "ssm" limits apply only to ssm connections, and this grant reaches none',
      'a.json: grants[0].kubectl: "kubectl" limits apply only to eks connections, and this grant reaches none',
    ])
    assert.deepEqual(lines([{ source: 'a.json', data: file([{ id: 'w', groups: ['x'], tools: ['whoami'], sql: {} }]) }]), [
      'a.json: grants[0].sql: "sql" limits apply only to rds-data connections, and this grant reaches none',
    ])
  })

  it('warns when a grant reaches ssm or eks without limits', () => {
    const result = buildPolicy([{ source: 'a.json', data: file([{ id: 'w', groups: ['x'], connections: ['web'], tools: ['ssm_run'] }], { web: ssm }) }])
    assert.ok(result.ok, 'expected: result.ok')
    assert.deepEqual(result.warnings.map(formatPolicyIssue), [
      'a.json: grants[0]: grant reaches a ssm connection but sets no "ssm" limits, so no command is allowed there',
    ])
  })

  it('warns when a read-only grant, on any engine, reaches a Data API connection without readOnlySecretArn', () => {
    const mysql = { ...rds, engine: 'mysql' }
    const connections = { pg: rds, my: mysql, 'pg-reader': { ...rds, readOnlySecretArn: READER }, 'my-reader': { ...mysql, readOnlySecretArn: READER }, web: ssm }
    const result = buildPolicy([
      {
        source: 'a.json',
        data: file(
          [
            { id: 'default-mode', groups: ['x'], connections: ['pg'], tools: ['sql_query'] },
            { id: 'explicit', groups: ['x'], connections: ['web', 'pg-reader', 'my'], tools: ['sql_query'], sql: { mode: 'read-only' } },
            { id: 'with-readers', groups: ['x'], connections: ['pg-reader', 'my-reader'], tools: ['sql_query'] },
            { id: 'writer', groups: ['x'], connections: ['pg', 'my'], tools: ['sql_query'], sql: { mode: 'read-write' } },
            { id: 'masked', groups: ['x'], connections: ['my'], tools: ['sql_query'], sql: { maskColumns: { '*.email': 'redact' } } },
          ],
          connections,
        ),
      },
    ])
    assert.ok(result.ok, 'expected: result.ok')
    const why = 'which has no "readOnlySecretArn": statements run as its read-write database user, so nothing in the database itself stops what the statement guard and the read-only transaction miss'
    assert.deepEqual(
      result.warnings.filter((w) => !w.message.includes('"ssm" limits')).map(formatPolicyIssue),
      [
        `a.json: grants[0].connections[0]: grant is read-only on "pg", ${why}`,
        `a.json: grants[1].connections[2]: grant is read-only on "my", ${why}`,
        `a.json: grants[4].connections[0]: grant is read-only on "my", ${why}`,
      ],
    )
  })

  it('rejects bad ttls and notAfter values', () => {
    const bad = [{ ttl: '0m' }, { ttl: '13h' }, { ttl: '15 minutes' }, { ttl: 900 }, { notAfter: '2026-02-30T00:00:00Z' }, { notAfter: 'tomorrow' }]
    assert.deepEqual(lines([{ source: 'a.json', data: file(bad.map((extra, i) => ({ ...grant, id: `g${i}`, ...extra }))) }]), [
      'a.json: grants[0].ttl: expected a duration such as "15m", "90s" or "2h"',
      'a.json: grants[1].ttl: at most 12h',
      'a.json: grants[2].ttl: expected a duration such as "15m", "90s" or "2h"',
      'a.json: grants[3].ttl: expected a string, got a number',
      'a.json: grants[4].notAfter: expected an ISO 8601 date-time with an offset, such as "2026-12-31T23:59:59Z"',
      'a.json: grants[5].notAfter: expected an ISO 8601 date-time with an offset, such as "2026-12-31T23:59:59Z"',
    ])
  })

  it('warns about grants already past notAfter when given the time', () => {
    const data = file([{ ...grant, notAfter: '2026-01-01T00:00:00Z' }], { 'orders-db': { ...rds, readOnlySecretArn: READER } })
    const result = buildPolicy([{ source: 'a.json', data }], { nowMs: Date.parse('2026-02-01T00:00:00Z') })
    assert.ok(result.ok, 'expected: result.ok')
    assert.deepEqual(result.warnings.map(formatPolicyIssue), ['a.json: grants[0].notAfter: grant expired at 2026-01-01T00:00:00Z; it allows nothing'])
  })

  it('refuses a grant with neither groups nor subjects, and other shape errors', () => {
    assert.deepEqual(lines([{ source: 'a.json', data: file([{ id: 'g', tools: [] }, { id: 'h', groups: [''], tools: ['x'], sql: { maxRows: 1.5, timeoutSeconds: 99 } }]) }]), [
      'a.json: grants[0].tools: must not be empty',
      'a.json: grants[0]: a grant needs at least one group or subject',
      'a.json: grants[1].groups[0]: must not be empty',
      'a.json: grants[1].sql.maxRows: expected an integer, got the number 1.5',
      'a.json: grants[1].sql.timeoutSeconds: expected at most 45',
    ])
    assert.deepEqual(lines([{ source: 'a.json', data: file([{ id: 'g', tools: ['whoami'] }]) }]), ['a.json: grants[0]: a grant needs at least one group or subject'])
  })

  it('refuses documents that are not policies at all', () => {
    assert.deepEqual(
      lines([
        { source: 'null.json', data: null },
        { source: 'array.json', data: [] },
        { source: 'jwt.json', data: { alg: 'HS256', typ: 'JWT' } },
        { source: 'v2.json', data: { version: 2 } },
        { source: 'empty.json', data: {} },
      ]),
      [
        'null.json: expected an object, got null',
        'array.json: expected an object, got an array',
        'jwt.json: version: required, expected 1',
        'jwt.json: unknown keys "alg", "typ"; allowed: $schema, version, connections, grants, toolScopes',
        'v2.json: version: expected 1',
        'empty.json: version: required, expected 1',
      ],
    )
  })

  it('quotes path segments that are not plain words, and explains bad record keys', () => {
    const cluster = { ...eks, extra: 1 }
    assert.deepEqual(lines([{ source: 'a.json', data: file([], { 'Orders DB': eks, 'db.prod': cluster }) }]), [
      'a.json: connections["Orders DB"]: invalid key: expected a lowercase id (a-z, 0-9, ".", "_", "-")',
      'a.json: connections["db.prod"]: unknown key "extra"; allowed: kind, description, region, roleArn, cluster',
    ])
    assert.deepEqual(lines([{ source: 'a.json', data: file([{ ...grant, sql: { maskColumns: { '*.email': 'blur' } } }]) }]), [
      'a.json: grants[0].sql.maskColumns["*.email"]: expected "redact" | "hash" | "last4"',
    ])
  })

  it('reports bad ssm command templates at the offending word', () => {
    const messages = lines([{ source: 'a.json', data: file([{ id: 'w', groups: ['x'], connections: ['web'], tools: ['ssm_run'], ssm: { commands: [['uptime'], ['journalctl', '-n', '{itn:1-5}']] } }], { web: ssm }) }])
    assert.equal(messages.length, 1)
    assert.match(messages[0] ?? '', /^a\.json: grants\[0\]\.ssm\.commands\[1\]\[2\]: .*itn/)
  })

  it('accepts an empty list of documents as an empty policy', () => {
    const result = buildPolicy([])
    assert.ok(result.ok, 'expected: result.ok')
    assert.equal(result.policy.grants.length, 0)
  })
})
