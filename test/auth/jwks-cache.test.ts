import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { inspect } from 'node:util'
import { createManualClock, type ManualClock } from '../../src/clock.js'
import { AuthError, UpstreamError, type AuthFailure } from '../../src/errors.js'
import type { FetchLike } from '../../src/auth/fetch-idp-document.js'
import { createJwksCache, type JwksCache, type JwksCacheOptions } from '../../src/auth/jwks-cache.js'
import { createTokenVerifier } from '../../src/auth/verify-token.js'
import { startTestIssuer, type TestIssuer, type TestIssuerOptions } from '../support/test-issuer.js'

const START = Date.UTC(2026, 0, 1, 12, 0, 0)

interface Fixture {
  readonly clock: ManualClock
  readonly idp: TestIssuer
  readonly cache: JwksCache
  readonly refreshErrors: UpstreamError[]
  verify(token: string): ReturnType<ReturnType<typeof createTokenVerifier>['verify']>
}

const issuers: TestIssuer[] = []
afterEach(async () => {
  await Promise.all(issuers.splice(0).map((idp) => idp.stop()))
})

async function setUp(issuerOptions: TestIssuerOptions = {}, cacheOptions: Partial<JwksCacheOptions> = {}): Promise<Fixture> {
  const clock = createManualClock(START)
  const idp = await startTestIssuer({ clock, ...issuerOptions })
  issuers.push(idp)
  const refreshErrors: UpstreamError[] = []
  const cache = createJwksCache({
    issuer: idp.issuer,
    clock,
    allowInsecureLoopback: true,
    onRefreshError: (error) => refreshErrors.push(error),
    ...cacheOptions,
  })
  const verifier = createTokenVerifier({
    issuer: idp.issuer,
    audience: idp.audience,
    algorithms: ['RS256'],
    clockToleranceSeconds: 0,
    groupsClaim: 'groups',
    keys: cache.getKey,
    clock,
    // These tests are about the key set: every verify goes to it, none is answered from the verifier's memory.
    verifiedTokenTtlMs: 0,
  })
  return { clock, idp, cache, refreshErrors, verify: (token) => verifier.verify(`Bearer ${token}`) }
}

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (rejection: unknown) => rejection,
  )
  assert.ok(error instanceof AuthError, inspect(error))
  return error
}

async function assertFailure(promise: Promise<unknown>, failure: AuthFailure): Promise<void> {
  assert.equal((await refusal(promise)).failure, failure)
}

describe('createJwksCache', () => {
  it('fetches discovery and JWKS once for many verifications, including a concurrent cold start', async () => {
    const f = await setUp()
    const tokens = await Promise.all(Array.from({ length: 20 }, () => f.idp.mint()))
    await Promise.all(tokens.map((token) => f.verify(token)))
    await f.verify(await f.idp.mint())
    assert.equal(f.idp.discoveryRequests, 1)
    assert.equal(f.idp.jwksRequests, 1)
  })

  it('picks up a rotated key after the cooldown, and forgets a dropped one', async () => {
    const f = await setUp()
    const oldToken = await f.idp.mint()
    await f.verify(oldToken)
    const newKid = await f.idp.rotate({ dropOld: true })
    const newToken = await f.idp.mint()
    // Fetched moments ago: the unknown kid must wait for the cooldown.
    await assertFailure(f.verify(newToken), 'unknown_key')
    assert.equal(f.idp.jwksRequests, 1)
    f.clock.advance(30_000)
    assert.equal((await f.verify(newToken)).subject, 'agent-1')
    assert.equal(f.idp.jwksRequests, 2)
    assert.equal(f.idp.currentKid, newKid)
    await assertFailure(f.verify(oldToken), 'unknown_key')
  })

  it('keeps verifying the old key after a rotation that does not drop it', async () => {
    const f = await setUp()
    const oldKid = f.idp.currentKid
    const oldToken = await f.idp.mint()
    await f.verify(oldToken)
    await f.idp.rotate()
    f.clock.advance(30_000)
    assert.equal((await f.verify(await f.idp.mint())).subject, 'agent-1')
    assert.equal(f.idp.jwksRequests, 2)
    assert.equal((await f.verify(oldToken)).subject, 'agent-1')
    assert.equal((await f.verify(await f.idp.mint({}, { kid: oldKid }))).subject, 'agent-1')
    assert.equal(f.idp.publicJwk(oldKid).d, undefined)
    assert.equal(f.idp.jwksRequests, 2)
  })

  it('lets a flood of unknown kids cause at most one JWKS fetch per cooldown', async () => {
    const f = await setUp()
    await f.verify(await f.idp.mint())
    f.clock.advance(30_000)
    const flood = async (): Promise<void> => {
      const tokens = await Promise.all(Array.from({ length: 25 }, (_, i) => f.idp.mint({}, { kid: `attacker-${i}` })))
      const failures = await Promise.all(tokens.map(async (token) => (await refusal(f.verify(token))).failure))
      assert.deepEqual(new Set(failures), new Set(['unknown_key']))
    }
    await flood()
    assert.equal(f.idp.jwksRequests, 2)
    await flood()
    f.clock.advance(29_999)
    await flood()
    assert.equal(f.idp.jwksRequests, 2)
    f.clock.advance(1)
    await flood()
    assert.equal(f.idp.jwksRequests, 3)
  })

  it('refreshes stale keys in the background without holding up a known kid', async () => {
    let releaseGate: () => void = () => undefined
    let gate: Promise<void> = Promise.resolve()
    const gatedFetch: FetchLike = async (url, init) => {
      await gate
      return fetch(url, init)
    }
    const f = await setUp({}, { fetch: gatedFetch })
    const token = await f.idp.mint({ exp: Math.floor(START / 1000) + 3600 })
    await f.verify(token)
    await f.idp.rotate({ dropOld: true })
    gate = new Promise((resolve) => {
      releaseGate = resolve
    })
    f.clock.advance(10 * 60_000)
    // Answered from the held keys while the refresh waits at the gate.
    assert.equal((await f.verify(token)).subject, 'agent-1')
    assert.equal(f.idp.jwksRequests, 1)
    releaseGate()
    assert.equal(await f.cache.refresh(), true)
    assert.equal(f.idp.jwksRequests, 2)
    await assertFailure(f.verify(token), 'unknown_key')
  })

  for (const mode of ['unavailable', 'reset'] as const) {
    it(`keeps known keys while the issuer is down (${mode}) and refuses unknown kids`, async () => {
      const f = await setUp()
      const token = await f.idp.mint({ exp: Math.floor(START / 1000) + 7200 })
      await f.verify(token)
      f.idp.setDown(true, mode)
      f.clock.advance(60 * 60_000)
      assert.equal((await f.verify(token)).subject, 'agent-1')
      assert.equal(await f.cache.refresh(), true)
      const unknown = await f.idp.mint({ exp: Math.floor(START / 1000) + 7200 }, { kid: 'new-kid' })
      f.clock.advance(30_000)
      await assertFailure(f.verify(unknown), 'unknown_key')
      assert.ok(f.refreshErrors.length >= 1, 'expected: f.refreshErrors.length >= 1')
      for (const error of f.refreshErrors) assert.equal(error.code, 'OIDC_UNAVAILABLE')
      assert.equal((await f.verify(token)).subject, 'agent-1')
    })
  }

  it('fails closed while no key set was ever fetched, and retries 1 s after a failure, not 30 s', async () => {
    const f = await setUp()
    f.idp.setDown(true)
    const token = await f.idp.mint()
    const first = await refusal(f.verify(token))
    assert.equal(first.failure, 'issuer_unavailable')
    assert.equal(first.code, 'AUTH_INVALID')
    assert.equal(first.retryAfterSeconds, 1)
    assert.ok(first.cause instanceof UpstreamError, 'expected: first.cause instanceof UpstreamError')
    assert.ok(!inspect(first, { depth: 20 }).includes(token.split('.')[2] ?? token), 'expected: !inspect(first, { depth: 20 }).includes(token.split(\'.\')[2] ?? token)')
    assert.equal(f.idp.discoveryRequests, 1)
    f.idp.setDown(false)
    await assertFailure(f.verify(token), 'issuer_unavailable')
    f.clock.advance(999)
    await assertFailure(f.verify(token), 'issuer_unavailable')
    assert.equal(f.idp.discoveryRequests, 1)
    f.clock.advance(1)
    assert.equal((await f.verify(token)).subject, 'agent-1')
    assert.equal(f.idp.discoveryRequests, 2)
    assert.equal(f.refreshErrors.length, 1)
    const logged = inspect(f.refreshErrors, { depth: 20 })
    assert.match(logged, /HTTP 503/)
    for (const part of token.split('.')) assert.ok(!logged.includes(part), 'refresh errors must not carry the token')
  })

  it('while no key set was ever fetched: backs off 1 s then 2 s, tells callers when it retries, and a flood fetches once per window', async () => {
    const f = await setUp()
    f.idp.setDown(true, 'reset')
    const tokens = await Promise.all(Array.from({ length: 25 }, () => f.idp.mint()))
    const flood = async (): Promise<number[]> => {
      const refused = await Promise.all(tokens.map((token) => refusal(f.verify(token))))
      assert.deepEqual(new Set(refused.map((e) => e.failure)), new Set(['issuer_unavailable']))
      return [...new Set(refused.map((e) => e.retryAfterSeconds ?? -1))]
    }
    assert.deepEqual(await flood(), [1])
    assert.equal(f.idp.discoveryRequests, 1)
    f.clock.advance(400)
    assert.deepEqual(await flood(), [1])
    assert.equal(f.idp.discoveryRequests, 1)
    f.clock.advance(600)
    assert.deepEqual(await flood(), [2], 'the second failure doubles the wait')
    assert.equal(f.idp.discoveryRequests, 2)
    f.clock.advance(1500)
    assert.deepEqual(await flood(), [1], 'Retry-After counts down to the next attempt')
    assert.equal(f.idp.discoveryRequests, 2)
    f.clock.advance(500)
    assert.deepEqual(await flood(), [2], 'capped at 2 s')
    f.clock.advance(2000)
    assert.deepEqual(await flood(), [2])
    assert.equal(f.idp.discoveryRequests, 4)
    f.idp.setDown(false)
    f.clock.advance(2000)
    assert.equal((await f.verify(tokens[0] ?? '')).subject, 'agent-1')
    assert.equal(f.idp.discoveryRequests, 5)
  })

  it('once keys are held, a failed refresh keeps the 30 s cooldown: an unknown-kid flood while the issuer is down fetches once per 30 s', async () => {
    const f = await setUp()
    await f.verify(await f.idp.mint({ exp: Math.floor(START / 1000) + 7200 }))
    f.idp.setDown(true)
    f.clock.advance(30_000)
    const unknown = await Promise.all(Array.from({ length: 25 }, (_, i) => f.idp.mint({ exp: Math.floor(START / 1000) + 7200 }, { kid: `attacker-${i}` })))
    const flood = async () => {
      const failures = await Promise.all(unknown.map(async (token) => (await refusal(f.verify(token))).failure))
      assert.deepEqual(new Set(failures), new Set(['unknown_key']))
    }
    await flood()
    assert.equal(f.idp.jwksRequests + f.idp.discoveryRequests, 3, 'one discovery + JWKS at start, one discovery attempt now')
    f.clock.advance(2_000)
    await flood()
    f.clock.advance(27_999)
    await flood()
    assert.equal(f.idp.jwksRequests + f.idp.discoveryRequests, 3)
    f.clock.advance(1)
    await flood()
    assert.equal(f.idp.jwksRequests + f.idp.discoveryRequests, 4)
  })

  it('survives an onRefreshError callback that throws', async () => {
    const f = await setUp({}, { onRefreshError: () => { throw new Error('logger broke') } })
    f.idp.setDown(true)
    await assertFailure(f.verify(await f.idp.mint()), 'issuer_unavailable')
  })

  it('refuses every token when discovery names another issuer', async () => {
    const f = await setUp({ discoveryOverrides: { issuer: 'https://elsewhere.example' } })
    await assertFailure(f.verify(await f.idp.mint()), 'issuer_unavailable')
    assert.equal(f.refreshErrors[0]?.code, 'OIDC_INVALID')
    assert.equal(f.idp.jwksRequests, 0)
  })

  it('refuses every token when the JWKS is not a key set', async () => {
    // Point jwks_uri at a JSON document without `keys`: another issuer's discovery document.
    const other = await startTestIssuer()
    issuers.push(other)
    const f = await setUp({ discoveryOverrides: { jwks_uri: `${other.issuer}/.well-known/openid-configuration` } })
    await assertFailure(f.verify(await f.idp.mint()), 'issuer_unavailable')
    assert.equal(f.refreshErrors[0]?.code, 'OIDC_INVALID')
    assert.equal(other.discoveryRequests, 1)
  })

  it('tells each fetch attempt to onRefresh and holds keys from the first success on, through later failures', async () => {
    const results: string[] = []
    const f = await setUp({}, { onRefresh: (result) => results.push(result) })
    f.idp.setDown(true)
    assert.equal(await f.cache.refresh(), false)
    assert.equal(f.cache.hasKeys(), false)
    f.idp.setDown(false)
    f.clock.advance(2_000)
    assert.equal(await f.cache.refresh(), true)
    assert.equal(f.cache.hasKeys(), true)
    f.idp.setDown(true)
    f.clock.advance(30_000)
    assert.equal(await f.cache.refresh(), true, 'keys are kept')
    assert.equal(f.cache.hasKeys(), true)
    assert.deepEqual(results, ['error', 'ok', 'error'])
  })

  it('throws TypeError for an insecure issuer or bad durations', () => {
    const clock = createManualClock(START)
    assert.throws(() => createJwksCache({ issuer: 'http://idp.example', clock }), TypeError)
    assert.throws(() => createJwksCache({ issuer: 'http://127.0.0.1:1', clock }), TypeError)
    assert.throws(() => createJwksCache({ issuer: 'https://idp.example?x=1', clock }), TypeError)
    assert.throws(() => createJwksCache({ issuer: 'https://idp.example', clock, refreshIntervalMs: 0 }), TypeError)
    assert.throws(() => createJwksCache({ issuer: 'https://idp.example', clock, unavailableRetryMs: 0 }), TypeError)
    assert.throws(() => createJwksCache({ issuer: 'https://idp.example', clock, unavailableRetryMs: 3000, unavailableRetryMaxMs: 2000 }), TypeError)
    assert.doesNotThrow(() => createJwksCache({ issuer: 'http://127.0.0.1:1', clock, allowInsecureLoopback: true }))
  })
})
