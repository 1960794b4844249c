import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readScopeClaims } from '../../src/auth/read-scope-claims.js'

describe('readScopeClaims', () => {
  const cases: readonly (readonly [string, Record<string, unknown>, readonly string[] | undefined])[] = [
    ['no scope claim at all', { sub: 'a' }, undefined],
    ['scope as one space-separated string (RFC 9068)', { scope: 'openid airlock.sql  airlock.read' }, ['openid', 'airlock.sql', 'airlock.read']],
    ['scope as an empty string', { scope: '' }, []],
    ['scope as an array', { scope: ['airlock.sql', 'airlock.read'] }, ['airlock.sql', 'airlock.read']],
    ['scp as an array (Okta, Ory)', { scp: ['airlock.sql'] }, ['airlock.sql']],
    ['scp as a string (Entra ID)', { scp: 'airlock.sql airlock.read' }, ['airlock.sql', 'airlock.read']],
    ['both claims: their union, once each', { scope: 'a b', scp: ['b', 'c'] }, ['a', 'b', 'c']],
    ['an array item is one scope as it is, never split', { scp: ['a b'] }, ['a b']],
    ['a string splits on spaces only', { scope: 'a\tb' }, ['a\tb']],
  ]
  for (const [name, claims, expected] of cases) {
    it(`reads ${name}`, () => {
      assert.deepEqual(readScopeClaims(claims), { ok: true, scopes: expected })
    })
  }

  const refused: readonly (readonly [string, Record<string, unknown>, 'scope' | 'scp'])[] = [
    ['scope as a number', { scope: 7 }, 'scope'],
    ['scope as an object', { scope: { read: true } }, 'scope'],
    ['scope as null', { scope: null }, 'scope'],
    ['scope as a boolean', { scope: true }, 'scope'],
    ['scp holding a non-string', { scp: ['a', 1] }, 'scp'],
    ['scp as an object', { scope: 'a', scp: { a: 1 } }, 'scp'],
  ]
  for (const [name, claims, claim] of refused) {
    it(`refuses ${name}, naming the claim`, () => {
      assert.deepEqual(readScopeClaims(claims), { ok: false, claim })
    })
  }
})
