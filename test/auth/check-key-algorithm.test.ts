import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { JWK } from 'jose'
import { checkKeyAlgorithm, keyAlgorithms, type KeyAlgorithmCheck } from '../../src/auth/check-key-algorithm.js'

const rsa = (extra: Partial<JWK> = {}): JWK => ({ kty: 'RSA', n: 'n', e: 'AQAB', kid: 'r1', ...extra })
const ec = (crv: string, extra: Partial<JWK> = {}): JWK => ({ kty: 'EC', crv, x: 'x', y: 'y', kid: `e-${crv}`, ...extra })
const okp = (crv: string, extra: Partial<JWK> = {}): JWK => ({ kty: 'OKP', crv, x: 'x', kid: `o-${crv}`, ...extra })

describe('keyAlgorithms', () => {
  const TABLE: ReadonlyArray<[label: string, jwk: JWK, declared: readonly string[] | undefined, expected: readonly string[]]> = [
    ['the JWK alg wins over the declared list', rsa({ alg: 'PS256' }), ['RS256'], ['PS256']],
    ['RSA without alg: the declared RSA algorithms', rsa(), ['RS256', 'PS256', 'ES256', 'HS256'], ['RS256', 'PS256']],
    ['RSA without alg, nothing declared: RS256', rsa(), undefined, ['RS256']],
    ['RSA without alg, an empty list: RS256', rsa(), [], ['RS256']],
    ['P-384 without alg, nothing declared: ES384', ec('P-384'), undefined, ['ES384']],
    ['P-256 without alg, only RSA declared: none', ec('P-256'), ['RS256'], []],
    ['Ed25519 without alg, nothing declared', okp('Ed25519'), undefined, ['EdDSA', 'Ed25519']],
    ['Ed448 without alg, nothing declared', okp('Ed448'), undefined, ['EdDSA']],
    ['an unknown declared name is dropped', rsa(), ['RS256', 'none', 'rs512'], ['RS256']],
  ]
  for (const [label, jwk, declared, expected] of TABLE) it(label, () => assert.deepEqual(keyAlgorithms(jwk, declared), expected))
})

describe('checkKeyAlgorithm', () => {
  const TABLE: ReadonlyArray<[label: string, keys: readonly JWK[], header: Record<string, unknown>, declared: readonly string[] | undefined, expected: KeyAlgorithmCheck]> = [
    ['RS256 under an RS256 JWK', [rsa({ alg: 'RS256' })], { alg: 'RS256', kid: 'r1' }, undefined, 'ok'],
    ['PS256 under an RS256 JWK', [rsa({ alg: 'RS256' })], { alg: 'PS256', kid: 'r1' }, undefined, 'not_declared'],
    ['RS512 under an RS256 JWK, no kid', [rsa({ alg: 'RS256' })], { alg: 'RS512' }, undefined, 'not_declared'],
    ['PS256 under an alg-less key, RS256 declared', [rsa()], { alg: 'PS256', kid: 'r1' }, ['RS256'], 'not_declared'],
    ['PS256 under an alg-less key, PS256 declared', [rsa()], { alg: 'PS256', kid: 'r1' }, ['RS256', 'PS256'], 'ok'],
    ['an unknown kid is for the key lookup to report', [rsa({ alg: 'RS256' })], { alg: 'PS256', kid: 'other' }, undefined, 'no_key'],
    ['an RSA alg with only EC keys', [ec('P-256', { alg: 'ES256' })], { alg: 'RS256' }, undefined, 'no_key'],
    ['ES384 with a P-256 key', [ec('P-256')], { alg: 'ES384', kid: 'e-P-256' }, undefined, 'no_key'],
    ['an encryption key is never selected', [rsa({ use: 'enc', alg: 'RS256' })], { alg: 'PS256', kid: 'r1' }, undefined, 'no_key'],
    ['a key without verify in key_ops is never selected', [rsa({ key_ops: ['sign'] })], { alg: 'RS256', kid: 'r1' }, undefined, 'no_key'],
    ['HS256 or none is never a key alg', [rsa()], { alg: 'HS256', kid: 'r1' }, ['HS256'], 'no_key'],
    [
      'one of two kid-less keys with its own alg, the other undeclared',
      [rsa({ kid: 'a', alg: 'RS256' }), rsa({ kid: 'b' })],
      { alg: 'PS256' },
      ['RS256'],
      'not_declared',
    ],
    [
      'the alg-bearing key for PS256 beside an RS256 one',
      [rsa({ kid: 'a', alg: 'RS256' }), rsa({ kid: 'b', alg: 'PS256' })],
      { alg: 'PS256', kid: 'b' },
      undefined,
      'ok',
    ],
  ]
  for (const [label, keys, header, declared, expected] of TABLE) {
    it(label, () => assert.equal(checkKeyAlgorithm(keys, header, declared), expected))
  }
})
