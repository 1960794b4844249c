import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { StateError } from '../../src/errors.js'
import { createMemorySessionStore } from '../../src/state/memory-session-store.js'
import { createRedisSessionStore } from '../../src/state/redis-session-store.js'
import type { SessionLimits, SessionStore, StoredSession } from '../../src/state/session-store.js'
import { useTestRedis } from '../support/test-redis.js'

const T0 = 1_780_000_000_000
const IDLE = 600_000
const LIMITS: SessionLimits = { idleTimeoutMs: IDLE, maxPerSubject: 3, maxTotal: 5 }
const ISS = 'https://idp.example.com'

function session(idHash: string, subject: string, at = T0, lifetimeMs = 3_600_000): StoredSession {
  return { idHash, issuer: ISS, subject, createdAt: at, lastSeenAt: at, expiresAt: at + lifetimeMs }
}

const { redis, redisPrefix } = useTestRedis()

const backends: Array<[string, (limits: SessionLimits) => SessionStore]> = [
  ['memory', (limits) => createMemorySessionStore(limits)],
  [
    'redis',
    (limits) => {
      const keyPrefix = redisPrefix()
      return createRedisSessionStore({ ...limits, redis, keyPrefix })
    },
  ],
]

for (const [name, make] of backends) {
  describe(`${name} session store`, () => {
    it('continues a session for its own subject and moves its last-seen time', async () => {
      const store = make(LIMITS)
      assert.deepEqual(await store.open(session('a1', 'alice'), T0), { ok: true, evicted: [] })
      const touched = await store.touch('a1', ISS, 'alice', T0 + 5_000)
      assert.deepEqual(touched, { ok: true, session: { ...session('a1', 'alice'), lastSeenAt: T0 + 5_000 } })
      assert.equal(await store.count(T0 + 5_000), 1)
    })

    it('refuses an unknown id and another subject or issuer without ending the owner’s session', async () => {
      const store = make(LIMITS)
      await store.open(session('a1', 'alice'), T0)
      assert.deepEqual(await store.touch('zz', ISS, 'alice', T0), { ok: false, reason: 'unknown' })
      assert.deepEqual(await store.touch('a1', ISS, 'mallory', T0), { ok: false, reason: 'wrong_subject' })
      assert.deepEqual(await store.touch('a1', 'https://other.example.com', 'alice', T0), { ok: false, reason: 'wrong_subject' })
      const still = await store.touch('a1', ISS, 'alice', T0 + 1)
      assert.equal(still.ok, true, 'the owner keeps the session after refused lookups')
    })

    it('ends a session at its idle limit, and keeps it while it is used just before', async () => {
      const store = make(LIMITS)
      await store.open(session('a1', 'alice'), T0)
      assert.equal((await store.touch('a1', ISS, 'alice', T0 + IDLE - 1)).ok, true, 'used one ms before its idle limit')
      const later = T0 + IDLE - 1 + IDLE
      assert.deepEqual(await store.touch('a1', ISS, 'alice', later), { ok: false, reason: 'idle', session: { ...session('a1', 'alice'), lastSeenAt: T0 + IDLE - 1 } })
      assert.deepEqual(await store.touch('a1', ISS, 'alice', later), { ok: false, reason: 'unknown' }, 'a lapsed session is gone once reported')
      assert.equal(await store.count(later), 0)
    })

    it('ends a session at its absolute limit even while it is in use', async () => {
      const store = make(LIMITS)
      await store.open(session('a1', 'alice', T0, 60_000), T0)
      assert.equal((await store.touch('a1', ISS, 'alice', T0 + 59_999)).ok, true, 'before the limit')
      const expired = await store.touch('a1', ISS, 'alice', T0 + 60_000)
      assert.equal(expired.ok === false && expired.reason, 'expired')
    })

    it('evicts the subject’s oldest session beyond the per-subject cap, and only that subject’s', async () => {
      const store = make(LIMITS)
      await store.open(session('b1', 'bob', T0), T0)
      for (let i = 1; i <= 3; i++) await store.open(session(`a${i}`, 'alice', T0 + i), T0 + i)
      const opened = await store.open(session('a4', 'alice', T0 + 4), T0 + 4)
      assert.deepEqual(opened, { ok: true, evicted: [session('a1', 'alice', T0 + 1)] })
      assert.deepEqual(await store.touch('a1', ISS, 'alice', T0 + 5), { ok: false, reason: 'unknown' })
      for (const id of ['a2', 'a3', 'a4']) assert.equal((await store.touch(id, ISS, 'alice', T0 + 5)).ok, true, `${id} stays`)
      assert.equal((await store.touch('b1', ISS, 'bob', T0 + 5)).ok, true, 'another subject’s session is not evicted')
    })

    it('refuses a new session at the total cap, and takes one again once a session lapses', async () => {
      const store = make({ ...LIMITS, maxPerSubject: 10, maxTotal: 2 })
      await store.open(session('a1', 'alice', T0, 60_000), T0)
      await store.open(session('b1', 'bob'), T0)
      assert.deepEqual(await store.open(session('c1', 'carol'), T0 + 1), { ok: false })
      assert.deepEqual(await store.open(session('c1', 'carol', T0 + 60_000), T0 + 60_000), { ok: true, evicted: [] }, 'alice’s lapsed session takes no place')
    })

    it('ends a session on DELETE once', async () => {
      const store = make(LIMITS)
      await store.open(session('a1', 'alice'), T0)
      assert.deepEqual(await store.end('a1'), session('a1', 'alice'))
      assert.equal(await store.end('a1'), undefined)
      assert.deepEqual(await store.touch('a1', ISS, 'alice', T0), { ok: false, reason: 'unknown' })
    })

    it('sweeps lapsed sessions with their reason, leaving live ones', async () => {
      const store = make(LIMITS)
      await store.open(session('a1', 'alice', T0, 60_000), T0)
      await store.open(session('b1', 'bob'), T0)
      await store.open(session('c1', 'carol'), T0)
      await store.touch('c1', ISS, 'carol', T0 + IDLE - 10)
      const swept = await store.sweep(T0 + IDLE, 100)
      assert.deepEqual(
        swept.map((e) => [e.session.idHash, e.reason]).sort(),
        [
          ['a1', 'expired'],
          ['b1', 'idle'],
        ],
      )
      assert.deepEqual(await store.sweep(T0 + IDLE, 100), [], 'each lapsed session is swept once')
      assert.equal((await store.touch('c1', ISS, 'carol', T0 + IDLE)).ok, true, 'a session used recently survives the sweep')
    })

    it('sweeps at most the given number per call', async () => {
      const store = make({ ...LIMITS, maxPerSubject: 10, maxTotal: 10 })
      for (let i = 0; i < 5; i++) await store.open(session(`s${i}`, `user${i}`, T0, 1_000), T0)
      assert.equal((await store.sweep(T0 + 1_000, 2)).length, 2)
      assert.equal((await store.sweep(T0 + 1_000, 10)).length, 3)
    })
  })
}

describe('redis session store shared by two replicas', () => {
  it('continues through one replica a session opened through the other, and ends it for both', async () => {
    const keyPrefix = redisPrefix()
    const other = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 })
    try {
      const a = createRedisSessionStore({ ...LIMITS, redis, keyPrefix })
      const b = createRedisSessionStore({ ...LIMITS, redis: other, keyPrefix })
      await a.open(session('a1', 'alice'), T0)
      assert.equal((await b.touch('a1', ISS, 'alice', T0 + 1)).ok, true, 'replica B sees A’s session')
      assert.deepEqual(await b.touch('a1', ISS, 'mallory', T0 + 1), { ok: false, reason: 'wrong_subject' })
      await b.end('a1')
      assert.deepEqual(await a.touch('a1', ISS, 'alice', T0 + 2), { ok: false, reason: 'unknown' })
    } finally {
      other.disconnect()
    }
  })

  it('stores only the hash of a session id', async () => {
    const keyPrefix = redisPrefix()
    const store = createRedisSessionStore({ ...LIMITS, redis, keyPrefix })
    await store.open(session('0123abcd', 'alice'), T0)
    const keys = await redis.keys(`${keyPrefix}*`)
    assert.deepEqual(keys.sort(), [`${keyPrefix}session:0123abcd`, `${keyPrefix}sessions`, ...keys.filter((k) => k.includes('subject-sessions:'))].sort())
    assert.equal(keys.some((k) => k.includes('alice')), false, 'no key names the subject in clear')
  })
})

describe('redis session store without Redis', () => {
  it('rejects with STATE_UNAVAILABLE instead of deciding without its state', async () => {
    // A port nothing listens on; no offline queue, so commands fail at once instead of waiting.
    const down = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    down.on('error', () => {})
    try {
      const store = createRedisSessionStore({ ...LIMITS, redis: down, keyPrefix: 'airlock-test:down:' })
      await assert.rejects(store.touch('a1', ISS, 'alice', T0), (error: unknown) => error instanceof StateError && error.code === 'STATE_UNAVAILABLE')
      await assert.rejects(store.open(session('a1', 'alice'), T0), (error: unknown) => error instanceof StateError && error.code === 'STATE_UNAVAILABLE')
      await assert.rejects(store.count(T0), (error: unknown) => error instanceof StateError)
    } finally {
      down.disconnect()
    }
  })
})
