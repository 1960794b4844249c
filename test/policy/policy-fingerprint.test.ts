import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { buildPolicy } from '../../src/policy/build-policy.js'
import type { PolicyFileInput } from '../../src/policy/policy-schema.js'
import { eks, policyOf, rds, ssm } from './policy-fixture.js'

const BASE: PolicyFileInput = {
  version: 1,
  connections: { 'orders-db': rds, 'web-fleet': ssm, 'demo-cluster': eks },
  grants: [
    { id: 'self', groups: ['dba', 'sre'], tools: ['whoami'] },
    { id: 'read', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'], sql: { maxRows: 200, maskColumns: { '*.email': 'redact' } } },
    { id: 'shell', groups: ['sre'], connections: ['web-fleet'], tools: ['ssm_run'], ssm: { commands: [['uptime'], ['systemctl', 'status', '{unit}']] } },
    { id: 'k8s', subjects: ['carol'], connections: ['demo-cluster'], tools: ['kubectl'], kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['shop'] } },
  ],
}

/** The fingerprint of documents given as JSON text, the way the files are read. */
function fingerprintOfTexts(...texts: string[]): string {
  const result = buildPolicy(texts.map((text, i) => ({ source: `f${i}.json`, data: JSON.parse(text) })))
  if (!result.ok) assert.fail(result.issues.map((i) => `${i.path}: ${i.message}`).join('\n'))
  return result.policy.fingerprint
}

/** Rewrites every object with its keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]))
  }
  return value
}

function mutated(change: (p: { connections: Record<string, Record<string, unknown>>; grants: Record<string, unknown>[] }) => void): PolicyFileInput {
  const copy = structuredClone(BASE) as unknown as { connections: Record<string, Record<string, unknown>>; grants: Record<string, unknown>[] }
  change(copy)
  return copy as unknown as PolicyFileInput
}

describe('policy fingerprint', () => {
  const base = policyOf(BASE).fingerprint

  it('is the sha256 of the canonical JSON of connections by id and grants in order', () => {
    const tiny = policyOf({ version: 1, grants: [{ id: 'me', groups: ['ops'], tools: ['whoami'] }] })
    const canonical = '{"connections":{},"grants":[{"connections":[],"groups":["ops"],"id":"me","subjects":[],"tools":["whoami"],"ttl":900}]}'
    assert.equal(tiny.fingerprint, createHash('sha256').update(canonical).digest('hex'))
    assert.match(base, /^[0-9a-f]{64}$/)
  })

  it('ignores whitespace, key order, $schema, how files split the policy and defaults spelled out', () => {
    const same: [string, string[]][] = [
      ['compact', [JSON.stringify(BASE)]],
      ['indented', [JSON.stringify(BASE, null, 4)]],
      ['keys reversed at every depth', [JSON.stringify(reverseKeys(BASE))]],
      ['with $schema', [JSON.stringify({ $schema: './policy.schema.json', ...BASE })]],
      [
        'connections in another file, listed first or last',
        [JSON.stringify({ version: 1, connections: BASE.connections }), JSON.stringify({ version: 1, grants: BASE.grants })],
      ],
      [
        'grants split across files in the same order, connections in reverse order',
        [
          JSON.stringify({ version: 1, connections: Object.fromEntries(Object.entries(BASE.connections ?? {}).reverse()), grants: BASE.grants?.slice(0, 2) }),
          JSON.stringify({ version: 1, grants: BASE.grants?.slice(2) }),
        ],
      ],
      [
        'defaults written out (ttl in another unit, read-only mode, empty subjects)',
        [JSON.stringify(mutated((p) => {
          p.grants[0] = { ...p.grants[0], ttl: '900s', subjects: [] }
          p.grants[1] = { ...p.grants[1], ttl: '15m', sql: { mode: 'read-only', maxRows: 200, maskColumns: { '*.email': 'redact' }, timeoutSeconds: 30 } }
        }))],
      ],
    ]
    for (const [what, texts] of same) assert.equal(fingerprintOfTexts(...texts), base, what)
  })

  it('changes with anything that changes what is enforced or shown', () => {
    const changes: [string, PolicyFileInput][] = [
      ['a group added', mutated((p) => void (p.grants[0] = { ...p.grants[0], groups: ['dba', 'sre', 'ops'] }))],
      ['a subject instead of a group', mutated((p) => void (p.grants[3] = { ...p.grants[3], subjects: ['dave'] }))],
      ['a tool added', mutated((p) => void (p.grants[0] = { ...p.grants[0], tools: ['whoami', 'list_connections'] }))],
      ['grant order (the first matching grant wins)', mutated((p) => void p.grants.reverse())],
      ['a grant id', mutated((p) => void (p.grants[0] = { ...p.grants[0], id: 'self2' }))],
      ['a ttl', mutated((p) => void (p.grants[0] = { ...p.grants[0], ttl: '16m' }))],
      ['a notAfter', mutated((p) => void (p.grants[0] = { ...p.grants[0], notAfter: '2030-01-01T00:00:00Z' }))],
      ['an approval', mutated((p) => void (p.grants[0] = { ...p.grants[0], approval: { approverGroups: ['leads'] } }))],
      ['sql read-write', mutated((p) => void (p.grants[1] = { ...p.grants[1], sql: { mode: 'read-write', maxRows: 200, maskColumns: { '*.email': 'redact' } } }))],
      ['sql row cap', mutated((p) => void (p.grants[1] = { ...p.grants[1], sql: { maxRows: 201, maskColumns: { '*.email': 'redact' } } }))],
      ['sql masking rule', mutated((p) => void (p.grants[1] = { ...p.grants[1], sql: { maxRows: 200, maskColumns: { '*.email': 'hash' } } }))],
      ['an ssm command', mutated((p) => void (p.grants[2] = { ...p.grants[2], ssm: { commands: [['uptime'], ['systemctl', 'restart', '{unit}']] } }))],
      ['ssm command order', mutated((p) => void (p.grants[2] = { ...p.grants[2], ssm: { commands: [['systemctl', 'status', '{unit}'], ['uptime']] } }))],
      ['a kubectl namespace', mutated((p) => void (p.grants[3] = { ...p.grants[3], kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['shop', 'prod'] } }))],
      ['a connection region', mutated((p) => void (p.connections['orders-db'] = { ...p.connections['orders-db'], region: 'eu-west-1' }))],
      ['a connection secret', mutated((p) => void (p.connections['orders-db'] = { ...p.connections['orders-db'], readOnlySecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:ro' }))],
      ['a connection renamed', mutated((p) => {
        p.connections['orders-db2'] = p.connections['orders-db'] ?? {}
        delete p.connections['orders-db']
        p.grants[1] = { ...p.grants[1], connections: ['orders-db2'] }
      })],
      ['a connection description (shown to agents)', mutated((p) => void (p.connections['orders-db'] = { ...p.connections['orders-db'], description: 'orders' }))],
    ]
    const seen = new Map<string, string>([[base, 'base']])
    for (const [what, policy] of changes) {
      const fingerprint = policyOf(policy).fingerprint
      assert.notEqual(fingerprint, base, what)
      assert.equal(seen.get(fingerprint), undefined, `${what} collides with ${seen.get(fingerprint)}`)
      seen.set(fingerprint, what)
    }
  })
})
