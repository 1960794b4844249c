import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defaultRedactOptions, redactArgs } from '../../src/audit/redact-args.js'

const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz'

describe('redactArgs with the default options', () => {
  const cases: { name: string; input: unknown; expected: Record<string, unknown> }[] = [
    { name: 'plain arguments pass through', input: { sql: 'select 1', limit: 10, dry: false, none: null }, expected: { sql: 'select 1', limit: 10, dry: false, none: null } },
    {
      name: 'SQL parameter map keeps names, hides values',
      input: { sql: 'select * from t where id = :id', parameters: { id: 42, email: 'a@b.c' } },
      expected: { sql: 'select * from t where id = :id', parameters: { id: '[redacted]', email: '[redacted]' } },
    },
    {
      name: 'RDS Data API parameter list keeps each name',
      input: { parameters: [{ name: 'id', value: { longValue: 42 } }, { name: 'who', value: { stringValue: 'x' }, typeHint: 'UUID' }] },
      expected: { parameters: [{ name: 'id', value: { longValue: '[redacted]' } }, { name: 'who', value: { stringValue: '[redacted]' }, typeHint: '[redacted]' }] },
    },
    { name: 'positional parameters', input: { Parameters: [1, 'two', null] }, expected: { Parameters: ['[redacted]', '[redacted]', '[redacted]'] } },
    { name: 'password in any case', input: { DB_Password: 'hunter2', userPassword: 'x' }, expected: { DB_Password: '[redacted]', userPassword: '[redacted]' } },
    { name: 'secret and token keys', input: { clientSecret: 's', access_token: 't', SessionToken: 'u' }, expected: { clientSecret: '[redacted]', access_token: '[redacted]', SessionToken: '[redacted]' } },
    { name: 'api key spellings', input: { 'X-Api-Key': 'k', api_key: 'k', apiKey: 'k' }, expected: { 'X-Api-Key': '[redacted]', api_key: '[redacted]', apiKey: '[redacted]' } },
    { name: 'authorization header nested', input: { headers: { Authorization: 'Bearer abc', accept: 'json' } }, expected: { headers: { Authorization: '[redacted]', accept: 'json' } } },
    { name: 'nested secret object keeps its keys', input: { credentials: { user: 'u', pass: 'p' } }, expected: { credentials: { user: '[redacted]', pass: '[redacted]' } } },
    { name: 'a JWT inside free text', input: { command: `curl -H "Authorization: Bearer ${jwt}" x` }, expected: { command: 'curl -H "Authorization: Bearer [redacted-jwt]" x' } },
    { name: 'keys that merely contain "key" stay', input: { primaryKey: 'id', keyspace: 'k' }, expected: { primaryKey: 'id', keyspace: 'k' } },
    { name: 'undefined args', input: undefined, expected: {} },
    { name: 'non-object args are wrapped', input: 'text', expected: { value: 'text' } },
    { name: 'bigint, NaN, date, binary', input: { n: 12n, f: Number.NaN, d: new Date(0), b: new Uint8Array(3) }, expected: { n: '12', f: 'NaN', d: '1970-01-01T00:00:00.000Z', b: '[binary 3 bytes]' } },
  ]
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(redactArgs(c.input), c.expected)
    })
  }

  it('truncates long strings with a marker', () => {
    const out = redactArgs({ sql: 'x'.repeat(5000) })
    assert.equal(out.sql, `${'x'.repeat(2048)}…[truncated 2952 chars]`)
  })

  it('does not split a surrogate pair when truncating', () => {
    const out = redactArgs({ s: 'ab😀cd' }, { ...defaultRedactOptions, maxStringLength: 3 })
    assert.equal(out.s, 'ab…[truncated 4 chars]')
  })

  it('limits arrays, depth and cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    assert.deepEqual(redactArgs(cyclic), { a: 1, self: '[circular]' })
    assert.deepEqual(redactArgs({ xs: [1, 2, 3, 4] }, { ...defaultRedactOptions, maxArrayItems: 2 }), { xs: [1, 2, '[2 more items]'] })
    assert.deepEqual(redactArgs({ a: { b: { c: 1 } } }, { ...defaultRedactOptions, maxDepth: 2 }), { a: { b: '[depth limit]' } })
  })

  it('uses custom globs only when given', () => {
    const options = { redactKeys: ['conn*'], maxStringLength: 100 }
    assert.deepEqual(redactArgs({ connection: 'prod', password: 'x' }, options), { connection: '[redacted]', password: 'x' })
  })

  it('does not mutate its input and keeps __proto__ as data', () => {
    const input = JSON.parse('{"parameters":{"a":1},"__proto__":{"polluted":true}}')
    const copy = structuredClone(input)
    const out = redactArgs(input)
    assert.deepEqual(input, copy)
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.ok(Object.hasOwn(out, '__proto__'), 'expected: Object.hasOwn(out, \'__proto__\')')
  })

  it('stays linear on a long run of JWT-looking prefixes', { timeout: 10_000 }, () => {
    const out = redactArgs({ sql: 'eyJ'.repeat(300_000) })
    assert.equal(typeof out.sql, 'string')
  })
})
