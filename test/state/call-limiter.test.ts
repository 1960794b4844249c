import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { createManualClock, systemClock, type Clock } from '../../src/clock.js'
import type { CallRateLimiter, ConcurrencyLimiter } from '../../src/state/call-limiter.js'
import { createMemoryConcurrencyLimiter } from '../../src/state/memory-concurrency-limiter.js'
import { createMemoryRateLimiter } from '../../src/state/memory-rate-limiter.js'
import { createRedisConcurrencyLimiter } from '../../src/state/redis-concurrency-limiter.js'
import { createRedisRateLimiter } from '../../src/state/redis-rate-limiter.js'
import { useTestRedis } from '../support/test-redis.js'

const T0 = Date.parse('2026-11-29T12:00:00Z')

const { redis, redisPrefix } = useTestRedis()

/** Two limiters sharing their counts: two replicas on one Redis; for memory, one process. */
const rateBackends: Array<[string, () => [CallRateLimiter, CallRateLimiter]]> = [
  [
    'memory',
    () => {
      const limiter = createMemoryRateLimiter()
      return [limiter, limiter]
    },
  ],
  [
    'redis',
    () => {
      const keyPrefix = redisPrefix()
      return [createRedisRateLimiter({ redis, keyPrefix }), createRedisRateLimiter({ redis, keyPrefix })]
    },
  ],
]

for (const [name, make] of rateBackends) {
  describe(`${name} calls-per-minute limiter`, () => {
    it('admits the limit within a sliding minute, then says when there is room again', async () => {
      const [a, b] = make()
      const slot = { key: 'alice:grant', limit: 3 }
      assert.deepEqual(await a.take([slot], T0), { ok: true })
      assert.deepEqual(await b.take([slot], T0 + 10_000), { ok: true })
      assert.deepEqual(await a.take([slot], T0 + 20_000), { ok: true })
      assert.deepEqual(await b.take([slot], T0 + 30_000), { ok: false, retryAfterMs: 30_000 })
      // Refused calls are not counted: the oldest still leaves the window at T0 + 60 s.
      assert.deepEqual(await a.take([slot], T0 + 59_999), { ok: false, retryAfterMs: 1 })
      assert.deepEqual(await a.take([slot], T0 + 60_000), { ok: true })
      assert.deepEqual(await b.take([slot], T0 + 60_001), { ok: false, retryAfterMs: 9_999 })
    })

    it('counts a call in every slot or in none', async () => {
      const [limiter] = make()
      const subject = { key: 'bob:subject', limit: 3 }
      assert.deepEqual(await limiter.take([subject, { key: 'bob:grant-a', limit: 1 }], T0), { ok: true })
      const refused = await limiter.take([subject, { key: 'bob:grant-a', limit: 1 }], T0 + 1)
      assert.equal(refused.ok, false, 'grant a is full')
      // The refusal took nothing from the subject's minute: two more fit under other grants.
      assert.deepEqual(await limiter.take([subject, { key: 'bob:grant-b', limit: 5 }], T0 + 2), { ok: true })
      assert.deepEqual(await limiter.take([subject, { key: 'bob:grant-b', limit: 5 }], T0 + 3), { ok: true })
      assert.deepEqual(await limiter.take([subject, { key: 'bob:grant-b', limit: 5 }], T0 + 4), { ok: false, retryAfterMs: 59_996 })
    })

    it('keeps subjects apart and admits calls in the same millisecond as distinct calls', async () => {
      const [a, b] = make()
      const answers = await Promise.all([a.take([{ key: 'c:g', limit: 2 }], T0), b.take([{ key: 'c:g', limit: 2 }], T0), a.take([{ key: 'c:g', limit: 2 }], T0)])
      assert.deepEqual(answers.map((x) => x.ok).sort(), [false, true, true])
      assert.deepEqual(await a.take([{ key: 'd:g', limit: 2 }], T0), { ok: true })
    })
  })
}

const concurrencyBackends: Array<[string, (clock: Clock, leaseMs?: number) => [ConcurrencyLimiter, ConcurrencyLimiter]]> = [
  [
    'memory',
    () => {
      const limiter = createMemoryConcurrencyLimiter()
      return [limiter, limiter]
    },
  ],
  [
    'redis',
    (clock, leaseMs) => {
      const keyPrefix = redisPrefix()
      const options = { redis, keyPrefix, clock, ...(leaseMs === undefined ? {} : { leaseMs }) }
      return [createRedisConcurrencyLimiter(options), createRedisConcurrencyLimiter(options)]
    },
  ],
]

for (const [name, make] of concurrencyBackends) {
  describe(`${name} concurrent-calls limiter`, () => {
    it('holds a place per call until it is released, across replicas', async () => {
      const [a, b] = make(createManualClock(T0))
      const slots = [{ key: 'alice:subject', limit: 5 }, { key: 'alice:grant', limit: 2 }]
      const first = await a.acquire(slots, T0)
      const second = await b.acquire(slots, T0)
      assert.ok(first.ok && second.ok, 'two places')
      assert.deepEqual(await a.acquire(slots, T0), { ok: false, retryAfterMs: 1_000 })
      await first.release()
      await first.release()
      const third = await b.acquire(slots, T0)
      assert.ok(third.ok, 'a released place is free again, and a second release frees nothing more')
      assert.deepEqual(await a.acquire(slots, T0), { ok: false, retryAfterMs: 1_000 })
      // The refused acquires took no place in the subject slot: two are held there, so three more fit.
      const others = await Promise.all([1, 2, 3].map(() => a.acquire([{ key: 'alice:subject', limit: 5 }], T0)))
      assert.deepEqual(others.map((x) => x.ok), [true, true, true])
      assert.equal((await a.acquire([{ key: 'alice:subject', limit: 5 }], T0)).ok, false)
      for (const lease of [second, third, ...others]) if (lease.ok) await lease.release()
    })
  })
}

describe('Redis concurrency leases', () => {
  it('frees the places of a replica that died holding them once the lease lapses', async () => {
    const clock = createManualClock(T0)
    const [a, b] = concurrencyBackends[1]?.[1](clock, 60_000) ?? assert.fail('redis backend')
    const slot = [{ key: 'crash:grant', limit: 1 }]
    const held = await a.acquire(slot, T0)
    assert.ok(held.ok, 'acquired')
    assert.equal((await b.acquire(slot, T0 + 59_999)).ok, false, 'held until the lease lapses')
    const after = await b.acquire(slot, T0 + 60_000)
    assert.ok(after.ok, 'free once it lapsed')
    if (held.ok) await held.release()
    if (after.ok) await after.release()
  })

  it('renews the lease of a call that runs longer than the lease', async () => {
    const [a, b] = concurrencyBackends[1]?.[1](systemClock, 300) ?? assert.fail('redis backend')
    const slot = [{ key: 'long:grant', limit: 1 }]
    const held = await a.acquire(slot, systemClock.now())
    assert.ok(held.ok, 'acquired')
    await sleep(800)
    assert.equal((await b.acquire(slot, systemClock.now())).ok, false, 'still held: renewed every 100 ms')
    await held.release()
    const next = await b.acquire(slot, systemClock.now())
    assert.ok(next.ok, 'free after release')
    await next.release()
  })
})
