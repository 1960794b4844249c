import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildPolicy, type PolicyDocument } from '../../src/policy/build-policy.js'
import { checkToolReferences } from '../../src/policy/check-tool-references.js'
import { allToolScopes, checkToolScopes } from '../../src/policy/check-tool-scopes.js'
import { formatPolicyIssue } from '../../src/policy/policy-issue.js'
import { policyOf, rds } from './policy-fixture.js'

const grants = [{ id: 'self', groups: ['dba'], tools: ['whoami', 'list_connections'] }]
const TOOLS = [
  { name: 'whoami', connectionKinds: [] },
  { name: 'list_connections', connectionKinds: [] },
  { name: 'sql_query', connectionKinds: ['rds-data'] },
] as const

function issues(documents: PolicyDocument[]): string[] {
  const result = buildPolicy(documents)
  assert.equal(result.ok, false, 'expected the policy to be refused')
  return result.ok ? [] : result.issues.map(formatPolicyIssue)
}

describe('policy toolScopes', () => {
  it('is empty when no file sets it, and keeps each tool’s scopes sorted and once each', () => {
    assert.equal(policyOf({ version: 1, grants }).toolScopes.size, 0)
    const policy = policyOf({ version: 1, grants, toolScopes: { sql_query: ['airlock.sql', 'airlock.read', 'airlock.sql'] } })
    assert.deepEqual([...policy.toolScopes], [['sql_query', ['airlock.read', 'airlock.sql']]])
    assert.ok(Object.isFrozen(policy.toolScopes.get('sql_query')), 'the scope list is frozen like the rest of the policy')
  })

  it('merges files, and refuses a tool whose scopes two files set, naming the first', () => {
    const merged = policyOf({ version: 1, grants, toolScopes: { whoami: ['a'] } }, { version: 1, toolScopes: { sql_query: ['b'] } })
    assert.deepEqual([...merged.toolScopes.keys()].sort(), ['sql_query', 'whoami'])
    assert.deepEqual(issues([
      { source: 'a.json', data: { version: 1, toolScopes: { sql_query: ['x'] } } },
      { source: 'b.json', data: { version: 1, toolScopes: { sql_query: ['x'] } } },
    ]), ['b.json: toolScopes.sql_query: the scopes of tool sql_query are already set in a.json'])
  })

  it('refuses scopes that are not OAuth scope tokens, offline_access, empty lists and bad tool names', () => {
    assert.deepEqual(issues([{ source: 'a.json', data: { version: 1, toolScopes: { sql_query: ['two words', 'a"b', '', 'offline_access'], whoami: [], 'sql query': ['x'] } } }]), [
      'a.json: toolScopes.sql_query[0]: expected an OAuth scope such as "airlock.sql" (no spaces, quotes or backslashes)',
      'a.json: toolScopes.sql_query[1]: expected an OAuth scope such as "airlock.sql" (no spaces, quotes or backslashes)',
      'a.json: toolScopes.sql_query[2]: expected an OAuth scope such as "airlock.sql" (no spaces, quotes or backslashes)',
      'a.json: toolScopes.sql_query[3]: offline_access asks for a refresh token; it is never a scope a tool needs',
      'a.json: toolScopes.whoami: must not be empty',
      'a.json: toolScopes["sql query"]: invalid key: expected a tool name such as "sql_query"',
    ])
  })

  it('names only tools the gateway has (checked with the tool list)', () => {
    const policy = policyOf({ version: 1, grants, toolScopes: { sql_qurey: ['airlock.sql'], whoami: ['airlock.me'] } })
    assert.deepEqual(checkToolReferences(policy, TOOLS).map(formatPolicyIssue), [
      'p0.json: toolScopes.sql_qurey: unknown tool "sql_qurey"; known tools: whoami, list_connections, sql_query',
    ])
  })

  it('is part of the fingerprint, which stays as it was for policies without it', () => {
    const plain = policyOf({ version: 1, grants }).fingerprint
    assert.equal(policyOf({ version: 1, grants, toolScopes: {} }).fingerprint, plain)
    const scoped = policyOf({ version: 1, grants, toolScopes: { whoami: ['a', 'b'] } }).fingerprint
    assert.notEqual(scoped, plain)
    assert.equal(policyOf({ version: 1, grants, toolScopes: { whoami: ['b', 'a', 'a'] } }).fingerprint, scoped, 'order and repeats mean nothing')
    assert.notEqual(policyOf({ version: 1, grants, toolScopes: { whoami: ['a'] } }).fingerprint, scoped)
    assert.notEqual(policyOf({ version: 1, grants, toolScopes: { list_connections: ['a', 'b'] } }).fingerprint, scoped)
  })
})

describe('checkToolScopes', () => {
  const policy = policyOf({
    version: 1,
    connections: { 'orders-db': rds },
    grants,
    toolScopes: { sql_query: ['airlock.read', 'airlock.sql'], list_connections: ['airlock.inventory'] },
  })
  const allowed: readonly (readonly [string, string, readonly string[]])[] = [
    ['a tool without scopes, no token scopes', 'whoami', []],
    ['a tool without scopes, other scopes', 'whoami', ['airlock.sql']],
    ['an unknown tool (the grants refuse it)', 'drop_database', []],
    ['every scope present', 'sql_query', ['airlock.sql', 'openid', 'airlock.read']],
    ['its one scope present', 'list_connections', ['airlock.inventory']],
  ]
  for (const [what, tool, granted] of allowed) {
    it(`passes ${what}`, () => assert.equal(checkToolScopes(policy, tool, granted), undefined))
  }
  const refused: readonly (readonly [string, string, readonly string[], readonly string[]])[] = [
    ['no scopes at all', 'sql_query', [], ['airlock.read', 'airlock.sql']],
    ['one of two scopes', 'sql_query', ['airlock.sql'], ['airlock.read']],
    ['another tool’s scope', 'list_connections', ['airlock.sql', 'airlock.read'], ['airlock.inventory']],
    ['a scope differing in case (compared exactly)', 'list_connections', ['Airlock.Inventory'], ['airlock.inventory']],
    ['a scope that only starts alike', 'list_connections', ['airlock.inventory.extra', 'airlock'], ['airlock.inventory']],
  ]
  for (const [what, tool, granted, missing] of refused) {
    it(`refuses ${what}, naming every scope the tool needs`, () => {
      assert.deepEqual(checkToolScopes(policy, tool, granted), { required: policy.toolScopes.get(tool), missing })
    })
  }

  it('lists every scope some tool needs, once each, for scopes_supported', () => {
    assert.deepEqual(allToolScopes(policy), ['airlock.inventory', 'airlock.read', 'airlock.sql'])
    assert.deepEqual(allToolScopes(policyOf({ version: 1, grants })), [])
  })
})
