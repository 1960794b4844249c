import type { Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import { randomHex } from '../random-hex.js'
import { CONCURRENCY_RETRY_MS, type ConcurrencyLimiter } from './call-limiter.js'
import { defineVariadicRedisScript } from './redis-variadic-script.js'

export interface RedisConcurrencyLimiterOptions {
  readonly redis: Redis
  /** Prefix of every key, e.g. `airlock:`. */
  readonly keyPrefix: string
  /** Lease times come from here (the gateway's clock, as every other decision). */
  readonly clock: Clock
  /** How long a place is held without renewal; a replica that dies frees its places this long after. Default 30 s. */
  readonly leaseMs?: number
  /** Reports a failed renewal or release (the lease then lapses by itself). */
  readonly onError?: (message: string, error: unknown) => void
}

// One sorted set per slot: member = lease id, score = when the lease lapses. ARGV: now, lease end,
// lease id, then one limit per key. Lapsed leases are dropped first. Returns 1 when acquired.
const ACQUIRE = `
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then return 0 end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[3])
  redis.call('PEXPIRE', key, tonumber(ARGV[2]) - now)
end
return 1
`

// ARGV: now, new lease end, lease id. Only leases still held are renewed.
const RENEW = `
for i, key in ipairs(KEYS) do
  if redis.call('ZADD', key, 'XX', 'CH', ARGV[2], ARGV[3]) == 1 then
    redis.call('PEXPIRE', key, tonumber(ARGV[2]) - tonumber(ARGV[1]))
  end
end
return 1
`

// ARGV: lease id.
const RELEASE = `
for i, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 1
`

/**
 * Calls in flight counted in Redis, shared by every replica. A place is a lease renewed every
 * third of `leaseMs` while its call runs, so a replica killed mid-call frees it within `leaseMs`.
 */
export function createRedisConcurrencyLimiter(options: RedisConcurrencyLimiterOptions): ConcurrencyLimiter {
  const leaseMs = options.leaseMs ?? 30_000
  const acquire = defineVariadicRedisScript(options.redis, 'airlockAcquireCall', ACQUIRE)
  const renew = defineVariadicRedisScript(options.redis, 'airlockRenewCall', RENEW)
  const release = defineVariadicRedisScript(options.redis, 'airlockReleaseCall', RELEASE)
  const report = options.onError ?? (() => undefined)

  return {
    async acquire(slots, now) {
      if (slots.length === 0) return { ok: true, release: async () => undefined }
      const keys = slots.map((slot) => `${options.keyPrefix}inflight:${slot.key}`)
      const lease = randomHex(9)
      const acquired = await acquire(keys, [now, now + leaseMs, lease, ...slots.map((slot) => slot.limit)])
      if (acquired !== 1) return { ok: false, retryAfterMs: CONCURRENCY_RETRY_MS }
      const renewal = setInterval(() => {
        const at = options.clock.now()
        renew(keys, [at, at + leaseMs, lease]).catch((error: unknown) => report('concurrency lease renewal failed', error))
      }, Math.max(1, Math.floor(leaseMs / 3)))
      renewal.unref()
      let released = false
      return {
        ok: true,
        async release() {
          if (released) return
          released = true
          clearInterval(renewal)
          await release(keys, [lease]).catch((error: unknown) => report('concurrency lease release failed; it lapses by itself', error))
        },
      }
    },
  }
}
