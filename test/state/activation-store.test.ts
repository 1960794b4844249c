import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createManualClock } from '../../src/clock.js'
import { decideActivation, type ActivationRequest, type ActivationStore } from '../../src/state/activation-store.js'
import { identityTag } from '../../src/state/identity-tag.js'
import { createMemoryActivationStore } from '../../src/state/memory-activation-store.js'
import { createRedisActivationStore } from '../../src/state/redis-activation-store.js'
import { useTestRedis } from '../support/test-redis.js'

const T0 = Date.parse('2026-11-29T12:00:00Z')
const MIN = 60_000
const TTL = 15 * MIN
const MAX_AGE = 24 * 60 * MIN
const KEY = { issuer: 'https://idp.example.com', subject: 'alice', grantId: 'dba-read' }

function request(now: number, signedInAt: number | undefined, extra: Partial<ActivationRequest> = {}): ActivationRequest {
  return { key: KEY, now, ttlMs: TTL, notAfterMs: undefined, signedInAt, maxSignInAgeMs: MAX_AGE, ...extra }
}

const { redis, redisPrefix } = useTestRedis()

/** Each backend; `replicas` gives two stores that share their state (two gateways on one Redis; for memory, one process). */
const backends: Array<[string, () => [ActivationStore, ActivationStore]]> = [
  [
    'memory',
    () => {
      const store = createMemoryActivationStore(createManualClock(T0))
      return [store, store]
    },
  ],
  [
    'redis',
    () => {
      const keyPrefix = redisPrefix()
      return [createRedisActivationStore({ redis, keyPrefix }), createRedisActivationStore({ redis, keyPrefix })]
    },
  ],
]

for (const [name, replicas] of backends) {
  describe(`${name} activation store`, () => {
    it('starts a period at the first call, continues it within the ttl, ends it after', async () => {
      const [store] = replicas()
      const signedIn = T0 - 5 * MIN
      const first = await store.activate(request(T0, signedIn))
      const period = { activatedAt: T0, expiresAt: T0 + TTL, signedInAt: signedIn, source: 'sign-in' as const, recorded: false }
      assert.deepEqual(first, { outcome: 'started', activation: period, renewed: false })
      assert.deepEqual(await store.activate(request(T0 + TTL - 1, signedIn)), { outcome: 'active', activation: period })
      assert.deepEqual(await store.activate(request(T0 + TTL, signedIn)), { outcome: 'ended', activation: period })
      assert.deepEqual(await store.find([KEY, { ...KEY, grantId: 'other' }]), [period, undefined])
    })

    it('renews only for a sign-in later than the end: a refreshed token (same auth_time) does not', async () => {
      const [store] = replicas()
      const signedIn = T0 - MIN
      await store.activate(request(T0, signedIn))
      const end = T0 + TTL
      assert.equal((await store.activate(request(end + 10 * MIN, signedIn))).outcome, 'ended', 'a refresh keeps auth_time')
      assert.equal((await store.activate(request(end + 10 * MIN, end))).outcome, 'ended', 'a sign-in at the very end is not after it')
      assert.equal((await store.activate(request(end + 10 * MIN, undefined))).outcome, 'ended', 'no sign-in time cannot renew')
      const renewed = await store.activate(request(end + 10 * MIN, end + 1_000))
      assert.deepEqual(renewed, { outcome: 'started', activation: { activatedAt: end + 10 * MIN, expiresAt: end + 10 * MIN + TTL, signedInAt: end + 1_000, source: 'sign-in', recorded: false }, renewed: true })
    })

    it('caps a period at the grant’s notAfter, and at a ttl or notAfter shortened later', async () => {
      const [store] = replicas()
      const started = await store.activate(request(T0, T0, { notAfterMs: T0 + 5 * MIN }))
      assert.equal(started.outcome === 'started' ? started.activation.expiresAt : 0, T0 + 5 * MIN)
      const other = { ...KEY, grantId: 'other' }
      await store.activate(request(T0, T0, { key: other }))
      const shortened = await store.activate(request(T0 + 6 * MIN, T0, { key: other, ttlMs: 5 * MIN }))
      assert.deepEqual([shortened.outcome, shortened.outcome === 'ended' ? shortened.activation.expiresAt : 0], ['ended', T0 + 5 * MIN])
      const longer = await store.activate(request(T0 + 14 * MIN, T0, { key: other, ttlMs: 60 * MIN }))
      assert.deepEqual([longer.outcome, longer.outcome === 'active' ? longer.activation.expiresAt : 0], ['active', T0 + TTL], 'no period outlasts the end it began with')
      assert.equal((await store.activate(request(T0 + TTL, T0, { key: other, ttlMs: 60 * MIN }))).outcome, 'ended')
    })

    it('refuses to start a period without a sign-in time or with one older than the limit', async () => {
      const [store] = replicas()
      assert.deepEqual(await store.activate(request(T0, undefined)), { outcome: 'sign_in_required', reason: 'missing' })
      assert.deepEqual(await store.activate(request(T0, T0 - MAX_AGE)), { outcome: 'sign_in_required', reason: 'too_old' })
      assert.deepEqual(await store.find([KEY]), [undefined], 'nothing was stored')
      assert.equal((await store.activate(request(T0, T0 - MAX_AGE + 1))).outcome, 'started')
    })

    it('keys periods by issuer, subject and grant', async () => {
      const [store] = replicas()
      await store.activate(request(T0, T0))
      for (const key of [{ ...KEY, issuer: 'https://other.example.com' }, { ...KEY, subject: 'bob' }, { ...KEY, grantId: 'dba-write' }]) {
        const answer = await store.activate(request(T0 + TTL + 1, T0, { key }))
        assert.equal(answer.outcome, 'started', JSON.stringify(key))
      }
    })

    it('marks a period recorded for every replica, and only the period that started at that time', async () => {
      const [a, b] = replicas()
      await a.activate(request(T0, T0 - MIN))
      await b.markRecorded(KEY, T0 + 1)
      assert.equal((await a.find([KEY]))[0]?.recorded, false, 'another start time marks nothing')
      await b.markRecorded(KEY, T0)
      assert.equal((await a.find([KEY]))[0]?.recorded, true, 'the other replica sees it recorded')
      const active = await a.activate(request(T0 + 1, T0 - MIN))
      assert.ok(active.outcome === 'active' && active.activation.recorded, `a continued period stays recorded: ${JSON.stringify(active)}`)
      const renewed = await b.activate(request(T0 + TTL + 1, T0 + TTL + 1))
      assert.ok(renewed.outcome === 'started' && !renewed.activation.recorded, `a new period starts unrecorded: ${JSON.stringify(renewed)}`)
      await a.markRecorded(KEY, T0)
      assert.equal((await b.find([KEY]))[0]?.recorded, false, 'marking the old period leaves the new one unrecorded')
      await b.markRecorded(KEY, T0 + 5)
      assert.equal((await b.find([KEY]))[0]?.recorded, false, 'nor does a time that is neither')
    })

    it('shares one period between replicas, even when their first calls race', async () => {
      const [a, b] = replicas()
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).activate(request(T0 + i, T0))))
      assert.equal(answers.filter((x) => x.outcome === 'started').length, 1, 'exactly one call starts the period')
      const starts = new Set(answers.map((x) => (x.outcome === 'started' || x.outcome === 'active' ? x.activation.activatedAt : -1)))
      assert.equal(starts.size, 1, 'every replica sees the same start')
      assert.equal((await b.activate(request(T0 + TTL + 5, T0))).outcome, 'ended', 'and the same end')
    })
  })
}

describe('keeping ended periods', () => {
  it('a sign-in from before the end cannot start a period once the record is gone (memory)', async () => {
    const clock = createManualClock(T0)
    const store = createMemoryActivationStore(clock)
    await store.activate(request(T0, T0))
    const gone = T0 + TTL + MAX_AGE
    clock.set(gone)
    assert.deepEqual(await store.find([KEY]), [undefined], 'the record is dropped after its retention')
    assert.deepEqual(await store.activate(request(gone, T0 + TTL)), { outcome: 'sign_in_required', reason: 'too_old' })
    assert.equal((await store.activate(request(gone, T0 + TTL + 1))).outcome, 'started')
  })

  it('Redis expires the record end + maxSignInAge after it is written, and deleting it reopens nothing', async () => {
    const keyPrefix = redisPrefix()
    const store = createRedisActivationStore({ redis, keyPrefix })
    await store.activate(request(T0, T0))
    const key = `${keyPrefix}activation:${identityTag(KEY.issuer, KEY.subject)}:${KEY.grantId}`
    const ttl = await redis.pttl(key)
    assert.ok(ttl > TTL + MAX_AGE - 5_000 && ttl <= TTL + MAX_AGE, `PTTL ${ttl}`)
    await redis.del(key)
    const gone = T0 + TTL + MAX_AGE + 1
    assert.deepEqual(await store.activate(request(gone, T0 + TTL)), { outcome: 'sign_in_required', reason: 'too_old' })
  })

  it('Redis reads a period stored before the recorded flag existed as recorded', async () => {
    const keyPrefix = redisPrefix()
    const store = createRedisActivationStore({ redis, keyPrefix })
    await store.activate(request(T0, T0))
    const key = `${keyPrefix}activation:${identityTag(KEY.issuer, KEY.subject)}:${KEY.grantId}`
    await redis.hdel(key, 'r')
    assert.equal((await store.find([KEY]))[0]?.recorded, true, 'find')
    const active = await store.activate(request(T0 + 1, T0))
    assert.ok(active.outcome === 'active' && active.activation.recorded, `activate: ${JSON.stringify(active)}`)
  })

  it('the Lua rule and decideActivation agree on a grid of cases', async () => {
    const keyPrefix = redisPrefix()
    const store = createRedisActivationStore({ redis, keyPrefix })
    const nows = [T0, T0 + 5 * MIN, T0 + TTL - 1, T0 + TTL, T0 + 2 * TTL, T0 + TTL + MAX_AGE]
    const signIns = [undefined, T0 - MAX_AGE, T0 - MAX_AGE + 1, T0 - 1, T0 + 5 * MIN, T0 + 5 * MIN + 1, T0 + TTL, T0 + TTL + 1]
    const caps: Array<number | undefined> = [undefined, T0 + 5 * MIN]
    let n = 0
    for (const notAfterMs of caps) {
      for (const signedInAt of signIns) {
        for (const now of nows) {
          const key = { ...KEY, grantId: `g${n++}` }
          // Seed: a period started at T0 (or none for the first column).
          const seeded = now === T0 ? undefined : { activatedAt: T0, expiresAt: notAfterMs === undefined ? T0 + TTL : Math.min(T0 + TTL, notAfterMs), signedInAt: T0, source: 'sign-in' as const, recorded: false }
          if (seeded !== undefined) await store.activate({ key, now: T0, ttlMs: TTL, notAfterMs, signedInAt: T0, maxSignInAgeMs: MAX_AGE })
          const req = { key, now, ttlMs: TTL, notAfterMs, signedInAt, maxSignInAgeMs: MAX_AGE }
          assert.deepEqual(await store.activate(req), decideActivation(seeded, req), JSON.stringify({ now, signedInAt, notAfterMs }))
        }
      }
    }
  })
})
