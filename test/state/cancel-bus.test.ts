import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { createLocalCancelBus, type CancelNotice } from '../../src/state/cancel-bus.js'
import { createRedisCancelBus } from '../../src/state/redis-cancel-bus.js'
import { createTeardown } from '../support/teardown.js'

const teardown = createTeardown()
after(() => teardown.run())

function connection(): Redis {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 })
  teardown.add(() => redis.disconnect())
  return redis
}

const ID_HASH = 'ab'.repeat(16)

describe('cancel bus', () => {
  it('local: delivers to its subscribers until they unsubscribe', async () => {
    const bus = createLocalCancelBus()
    const seen: CancelNotice[] = []
    const unsubscribe = bus.subscribe((n) => seen.push(n))
    await bus.publish({ idHash: ID_HASH, requestId: '7' })
    unsubscribe()
    await bus.publish({ idHash: ID_HASH, requestId: '8' })
    assert.deepEqual(seen, [{ idHash: ID_HASH, requestId: '7' }])
  })

  it('redis: a cancellation told to one replica reaches the replica running the call, and only in its deployment', async () => {
    const keyPrefix = `airlock-test:${randomBytes(6).toString('hex')}:`
    const errors: unknown[] = []
    const logError = () => {}
    const runner = createRedisCancelBus({ redis: connection(), subscriber: connection(), keyPrefix, logError: (_m, e) => errors.push(e) })
    const told = createRedisCancelBus({ redis: connection(), subscriber: connection(), keyPrefix, logError })
    const elsewhere = createRedisCancelBus({ redis: connection(), subscriber: connection(), keyPrefix: `${keyPrefix}other:`, logError })
    await Promise.all([runner.ready, told.ready, elsewhere.ready])
    const seen: CancelNotice[] = []
    const foreign: CancelNotice[] = []
    runner.subscribe((n) => seen.push(n))
    elsewhere.subscribe((n) => foreign.push(n))
    // A malformed notice on the channel is dropped and logged, and later ones still arrive.
    const raw = connection()
    await raw.publish(`${keyPrefix}cancel`, JSON.stringify({ idHash: 'not-a-hash', requestId: '1' }))
    await raw.publish(`${keyPrefix}cancel`, 'not json')
    await told.publish({ idHash: ID_HASH, requestId: '42' })
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(seen, [{ idHash: ID_HASH, requestId: '42' }])
    assert.deepEqual(foreign, [], 'another deployment’s prefix hears nothing')
    assert.equal(errors.length, 2, 'both malformed notices were logged by the runner')
  })

  it('redis: publishing without Redis rejects (the request is refused, not silently uncancelled)', async () => {
    const down = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    down.on('error', () => {})
    teardown.add(() => down.disconnect())
    const sub = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    sub.on('error', () => {})
    teardown.add(() => sub.disconnect())
    const bus = createRedisCancelBus({ redis: down, subscriber: sub, keyPrefix: 'airlock-test:down:', logError: () => {} })
    await assert.rejects(bus.ready, /SUBSCRIBE failed/)
    await assert.rejects(bus.publish({ idHash: ID_HASH, requestId: '1' }), /PUBLISH failed/)
  })
})
