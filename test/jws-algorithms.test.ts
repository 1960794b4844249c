import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { createTokenVerifier } from '../src/auth/verify-token.js'
import { createManualClock } from '../src/clock.js'
import { gatewayConfigSchema } from '../src/config.js'
import { JWS_ALGORITHMS } from '../src/jws-algorithms.js'

const START = Date.UTC(2026, 0, 1, 12, 0, 0)
const ISSUER = 'https://idp.example'
const AUDIENCE = 'https://airlock.example/mcp'
const clock = createManualClock(START)

/** Algorithms that exist (JWA, RFC 8037, jose) but must never verify a bearer token here. */
const UNUSABLE = ['HS256', 'HS384', 'HS512', 'none', 'RSA-OAEP', 'dir', 'ES256K', 'Ed448', 'rs256', '', 'XYZ']

// The config key on its own, so that no other key's error can make a refusal pass.
const algorithmsSchema = gatewayConfigSchema.shape.algorithms
function configWith(algorithms: readonly string[] | undefined): ReturnType<typeof algorithmsSchema.safeParse> {
  return algorithmsSchema.safeParse(algorithms)
}

function verifierFor(algorithms: readonly string[], key: CryptoKey): ReturnType<typeof createTokenVerifier> {
  // Any string, as a config file could carry it: the verifier must check at run time too.
  const options: Record<string, unknown> = { algorithms }
  return createTokenVerifier(
    Object.assign(
      { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256' as const], clockToleranceSeconds: 0, groupsClaim: 'groups', keys: async () => key, clock },
      options,
    ),
  )
}

describe('JWS_ALGORITHMS, shared by config and verifier', () => {
  for (const alg of JWS_ALGORITHMS) {
    it(`${alg}: config accepts it and the verifier verifies a token signed with it`, async () => {
      const parsed = configWith([alg])
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message)
      assert.deepEqual(parsed.data, [alg])
      const { publicKey, privateKey } = await generateKeyPair(alg)
      const token = await new SignJWT({})
        .setProtectedHeader({ alg })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject('agent-1')
        .setIssuedAt(START / 1000)
        .setExpirationTime(START / 1000 + 300)
        .sign(privateKey)
      const principal = await verifierFor(parsed.data, publicKey).verify(`Bearer ${token}`)
      assert.equal(principal.subject, 'agent-1')
    })
  }

  it("config's default is every algorithm, and the verifier takes it as is", async () => {
    const parsed = configWith(undefined)
    assert.ok(parsed.success, 'expected: parsed.success')
    assert.deepEqual(parsed.data, [...JWS_ALGORITHMS])
    const { publicKey } = await generateKeyPair('ES256')
    assert.doesNotThrow(() => verifierFor(parsed.data, publicKey))
  })

  for (const alg of UNUSABLE) {
    it(`${JSON.stringify(alg)}: config refuses it and so does the verifier`, async () => {
      assert.equal(configWith([alg]).success, false)
      assert.equal(configWith(['RS256', alg]).success, false)
      const { publicKey } = await generateKeyPair('ES256')
      assert.throws(() => verifierFor([alg], publicKey), TypeError)
      assert.throws(() => verifierFor(['RS256', alg], publicKey), TypeError)
    })
  }
})
