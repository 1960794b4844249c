import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JWS_ALGORITHMS, type JwsAlgorithm } from '../../src/jws-algorithms.js'
import type { TestIssuerOptions, TestKeyAlg } from '../support/test-issuer.js'
import { assertRefused, setUp } from './verifier-fixture.js'

// Each token below is really signed with the issuer's own private key; only the algorithm differs.
const ALL: readonly JwsAlgorithm[] = [...JWS_ALGORITHMS]
const RSA_ALTERNATIVES = ['PS256', 'PS384', 'PS512', 'RS384', 'RS512'] as const

interface Case {
  readonly label: string
  readonly algs?: readonly TestKeyAlg[]
  readonly issuer?: Omit<TestIssuerOptions, 'clock' | 'algs'>
  readonly algorithms?: readonly JwsAlgorithm[]
  readonly accepted: readonly string[]
  readonly refused: ReadonlyArray<readonly [alg: string, failure: 'alg_not_declared' | 'alg_not_allowed']>
}

const CASES: readonly Case[] = [
  {
    label: 'an RS256 key whose JWK says alg RS256',
    accepted: ['RS256'],
    refused: RSA_ALTERNATIVES.map((alg) => [alg, 'alg_not_declared'] as const),
  },
  {
    label: 'an RSA JWK without alg, discovery declaring RS256 (Entra ID)',
    issuer: { publishAlg: false },
    accepted: ['RS256'],
    refused: RSA_ALTERNATIVES.map((alg) => [alg, 'alg_not_declared'] as const),
  },
  {
    label: 'an RSA JWK without alg, discovery declaring RS256 and PS256',
    issuer: { publishAlg: false, discoveryOverrides: { id_token_signing_alg_values_supported: ['RS256', 'PS256', 'HS256'] } },
    accepted: ['RS256', 'PS256'],
    refused: [['RS512', 'alg_not_declared'], ['PS384', 'alg_not_declared'], ['RS384', 'alg_not_declared']],
  },
  {
    label: 'an access-token algorithm list, which takes precedence over the ID token one',
    issuer: {
      publishAlg: false,
      discoveryOverrides: { access_token_signing_alg_values_supported: ['PS256'], id_token_signing_alg_values_supported: ['RS256'] },
    },
    accepted: ['PS256'],
    refused: [['RS256', 'alg_not_declared'], ['RS512', 'alg_not_declared'], ['PS512', 'alg_not_declared']],
  },
  {
    label: 'an RSA JWK without alg and a discovery document declaring nothing (RS256, the OIDC default)',
    issuer: { publishAlg: false, discoveryOverrides: { id_token_signing_alg_values_supported: undefined } },
    accepted: ['RS256'],
    refused: RSA_ALTERNATIVES.map((alg) => [alg, 'alg_not_declared'] as const),
  },
  {
    label: 'an RS256 issuer narrowed by explicit config to PS256',
    algorithms: ['PS256'],
    accepted: [],
    refused: [['RS256', 'alg_not_allowed'], ['PS256', 'alg_not_declared'], ['RS512', 'alg_not_allowed']],
  },
  {
    label: 'an RSA JWK without alg, discovery declaring RS256 and PS256, narrowed by config to RS256',
    issuer: { publishAlg: false, discoveryOverrides: { id_token_signing_alg_values_supported: ['RS256', 'PS256'] } },
    algorithms: ['RS256', 'RS512'],
    accepted: ['RS256'],
    refused: [['PS256', 'alg_not_allowed'], ['RS512', 'alg_not_declared']],
  },
  {
    label: 'an ES256 issuer whose JWK lacks alg and whose discovery declares RS256 only',
    algs: ['ES256'],
    issuer: { publishAlg: false, discoveryOverrides: { id_token_signing_alg_values_supported: ['RS256'] } },
    accepted: [],
    refused: [['ES256', 'alg_not_declared']],
  },
  {
    label: 'an ES256 JWK without alg and nothing declared (the curve decides)',
    algs: ['ES256'],
    issuer: { publishAlg: false, discoveryOverrides: { id_token_signing_alg_values_supported: undefined } },
    accepted: ['ES256'],
    refused: [],
  },
  {
    label: 'an Ed25519 key whose JWK says alg EdDSA',
    algs: ['EdDSA'],
    accepted: ['EdDSA'],
    refused: [['Ed25519', 'alg_not_declared']],
  },
]

describe('signing algorithms default to what the issuer declares', () => {
  for (const c of CASES) {
    it(c.label, async () => {
      const f = await setUp(c.algs ?? ['RS256'], { algorithms: c.algorithms ?? ALL }, c.issuer ?? {})
      try {
        for (const alg of c.accepted) {
          const principal = await f.verifier.verify(`Bearer ${await f.idp.mint({}, { alg })}`)
          assert.equal(principal.subject, 'agent-1', alg)
        }
        for (const [alg, failure] of c.refused) {
          await assertRefused(f.verifier, `Bearer ${await f.idp.mint({}, { alg })}`, failure)
        }
      } finally {
        await f.idp.stop()
      }
    })
  }

  it('refuses an alternate algorithm without refetching the keys (the key is known, its alg is not)', async () => {
    const f = await setUp(['RS256'], { algorithms: ALL })
    try {
      await f.verifier.verify(`Bearer ${await f.idp.mint()}`)
      const fetched = f.idp.jwksRequests
      f.clock.advance(60_000)
      for (const alg of RSA_ALTERNATIVES) await assertRefused(f.verifier, `Bearer ${await f.idp.mint({}, { alg })}`, 'alg_not_declared')
      assert.equal(f.idp.jwksRequests, fetched)
      // An unknown kid under the same alternate alg is still an unknown key, and does refetch.
      await assertRefused(f.verifier, `Bearer ${await f.idp.mint({}, { alg: 'PS256', kid: 'not-a-key' })}`, 'unknown_key')
      assert.equal(f.idp.jwksRequests, fetched + 1)
    } finally {
      await f.idp.stop()
    }
  })
})
