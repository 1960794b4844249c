import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { KeyResolver } from '../../src/auth/jwks-cache.js'
import { createTokenVerifier, DEFAULT_VERIFIED_TOKEN_TTL_MS, MAX_VERIFIED_TOKENS } from '../../src/auth/verify-token.js'
import { createJwksCache } from '../../src/auth/jwks-cache.js'
import { AuthError } from '../../src/errors.js'
import { createTeardown } from '../support/teardown.js'
import { startTestIssuer } from '../support/test-issuer.js'
import { assertRefused, setUp, START, type Fixture } from './verifier-fixture.js'

const bearer = (token: string): string => `Bearer ${token}`
const nowSeconds = () => Math.floor(START / 1000)

describe('createTokenVerifier remembers verified tokens briefly', () => {
  let f: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp()
    teardown.add(() => f.idp.stop())
  })
  after(() => teardown.run())

  /** A verifier over the fixture's issuer whose key lookups are counted and can be made to fail. */
  function counted(overrides: { verifiedTokenTtlMs?: number; maxTokenAgeSeconds?: number } = {}) {
    const cache = createJwksCache({ issuer: f.idp.issuer, clock: f.clock, allowInsecureLoopback: true })
    const state = { lookups: 0, withdrawn: false }
    const keys: KeyResolver = async (header, token) => {
      state.lookups += 1
      if (state.withdrawn) throw new AuthError('AUTH_INVALID', 'unknown_key', 'bearer token refused (unknown_key): key withdrawn')
      return cache.getKey(header, token)
    }
    const verifier = createTokenVerifier({ issuer: f.idp.issuer, audience: f.idp.audience, algorithms: ['RS256'], clockToleranceSeconds: 30, groupsClaim: 'groups', keys, clock: f.clock, ...overrides })
    return { verifier, state }
  }

  it('checks the signature of a token once per period, not once per request', async () => {
    const { verifier, state } = counted()
    const token = await f.idp.mint({ iat: nowSeconds(), exp: nowSeconds() + 3600 })
    const first = await verifier.verify(bearer(token))
    const again = await verifier.verify(bearer(token))
    assert.equal(state.lookups, 1, 'the second request is answered without a key lookup')
    assert.deepEqual(again, first)
    assert.ok(Object.isFrozen(again) && Object.isFrozen(again.groups), 'a principal shared between requests cannot be changed by one of them')
  })

  it('verifies again after the period: a withdrawn key stops working within it', async () => {
    const { verifier, state } = counted()
    const token = await f.idp.mint({ iat: nowSeconds(), exp: nowSeconds() + 3600 })
    await verifier.verify(bearer(token))
    state.withdrawn = true
    f.clock.advance(DEFAULT_VERIFIED_TOKEN_TTL_MS - 1)
    assert.equal((await verifier.verify(bearer(token))).subject, 'agent-1', 'still within the period')
    f.clock.advance(1)
    await assertRefused(verifier, bearer(token), 'unknown_key')
    assert.equal(state.lookups, 2)
  })

  it('never answers from memory past exp, even inside the period', async () => {
    const { verifier } = counted({ verifiedTokenTtlMs: 10 * 60_000 })
    const t = Math.floor(f.clock.now() / 1000)
    const token = await f.idp.mint({ iat: t, exp: t + 60 })
    await verifier.verify(bearer(token))
    // exp passed and the 30 s tolerance too: a fresh verification refuses it.
    f.clock.advance(91_000)
    await assertRefused(verifier, bearer(token), 'expired')
  })

  it('never answers from memory past the maximum token age', async () => {
    const { verifier } = counted({ verifiedTokenTtlMs: 10 * 60_000, maxTokenAgeSeconds: 120 })
    const t = Math.floor(f.clock.now() / 1000)
    const token = await f.idp.mint({ iat: t, exp: t + 3600 })
    await verifier.verify(bearer(token))
    f.clock.advance(151_000)
    await assertRefused(verifier, bearer(token), 'too_old')
  })

  it('remembers only the exact text: a token with another signature is verified (and refused)', async () => {
    const { verifier, state } = counted()
    const token = await f.idp.mint({ iat: nowSeconds(), exp: nowSeconds() + 3600 })
    await verifier.verify(bearer(token))
    const [head, payload, signature = ''] = token.split('.')
    const forged = `${head}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
    await assertRefused(verifier, bearer(forged), 'bad_signature')
    assert.equal(state.lookups, 2)
  })

  it('does not remember refusals, and with a period of 0 verifies every request', async () => {
    const { verifier, state } = counted({ verifiedTokenTtlMs: 0 })
    const token = await f.idp.mint({ iat: nowSeconds(), exp: nowSeconds() + 3600 })
    await verifier.verify(bearer(token))
    await verifier.verify(bearer(token))
    assert.equal(state.lookups, 2)
    const refusing = counted()
    refusing.state.withdrawn = true
    await assertRefused(refusing.verifier, bearer(token), 'unknown_key')
    refusing.state.withdrawn = false
    assert.equal((await refusing.verifier.verify(bearer(token))).subject, 'agent-1', 'a refusal is not remembered')
  })

  it('ends the memory at exp exactly, even where the clock tolerance still accepts the token', async () => {
    const { verifier, state } = counted({ verifiedTokenTtlMs: 10 * 60_000 })
    const t = Math.floor(f.clock.now() / 1000)
    const token = await f.idp.mint({ iat: t, exp: t + 60 })
    await verifier.verify(bearer(token))
    f.clock.advance(60_000 - 1)
    await verifier.verify(bearer(token))
    assert.equal(state.lookups, 1, 'answered from memory until just before exp')
    f.clock.advance(1)
    await verifier.verify(bearer(token))
    assert.equal(state.lookups, 2, 'at exp the token is verified again (and accepted within the tolerance)')
  })

  it('remembers a token within its maximum age and ends the memory at iat + maximum age', async () => {
    const { verifier, state } = counted({ verifiedTokenTtlMs: 10 * 60_000, maxTokenAgeSeconds: 120 })
    const t = Math.floor(f.clock.now() / 1000)
    const token = await f.idp.mint({ iat: t, exp: t + 3600 })
    await verifier.verify(bearer(token))
    f.clock.advance(120_000 - 1)
    await verifier.verify(bearer(token))
    assert.equal(state.lookups, 1, 'answered from memory until just before the maximum age')
    f.clock.advance(1)
    await verifier.verify(bearer(token))
    assert.equal(state.lookups, 2, 'at the maximum age the token is verified again (and accepted within the tolerance)')
  })

  it('remembers at most MAX_VERIFIED_TOKENS tokens and forgets the oldest first', async () => {
    // EdDSA signs and verifies fast enough to fill the memory in a unit test.
    const idp = await startTestIssuer({ clock: f.clock, algs: ['EdDSA'] })
    teardown.add(() => idp.stop())
    const cache = createJwksCache({ issuer: idp.issuer, clock: f.clock, allowInsecureLoopback: true })
    let lookups = 0
    const keys: KeyResolver = async (header, token) => {
      lookups += 1
      return cache.getKey(header, token)
    }
    const verifier = createTokenVerifier({ issuer: idp.issuer, audience: idp.audience, algorithms: ['EdDSA'], clockToleranceSeconds: 30, groupsClaim: 'groups', keys, clock: f.clock })
    const tokens: string[] = []
    for (let i = 0; i <= MAX_VERIFIED_TOKENS; i++) tokens.push(await idp.mint({ sub: `agent-${i}`, iat: nowSeconds(), exp: nowSeconds() + 3600 }))
    for (const token of tokens) await verifier.verify(bearer(token))
    assert.equal(lookups, MAX_VERIFIED_TOKENS + 1)
    assert.equal((await verifier.verify(bearer(tokens[MAX_VERIFIED_TOKENS] ?? ''))).subject, `agent-${MAX_VERIFIED_TOKENS}`)
    assert.equal((await verifier.verify(bearer(tokens[1] ?? ''))).subject, 'agent-1')
    assert.equal(lookups, MAX_VERIFIED_TOKENS + 1, 'the newest and the second oldest are still remembered')
    assert.equal((await verifier.verify(bearer(tokens[0] ?? ''))).subject, 'agent-0')
    assert.equal(lookups, MAX_VERIFIED_TOKENS + 2, 'the oldest was forgotten when the memory was full')
  })

  it('refuses a negative or non-finite period at construction', () => {
    for (const verifiedTokenTtlMs of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => counted({ verifiedTokenTtlMs }), { name: 'TypeError', message: 'verifiedTokenTtlMs must be >= 0' })
    }
    assert.equal(MAX_VERIFIED_TOKENS, 10_000)
  })
})
