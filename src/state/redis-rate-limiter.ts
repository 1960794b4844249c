import type { Redis } from 'ioredis'
import { z } from 'zod'
import { StateError } from '../errors.js'
import { randomHex } from '../random-hex.js'
import { RATE_WINDOW_MS, type CallRateLimiter } from './call-limiter.js'
import { defineVariadicRedisScript } from './redis-variadic-script.js'

export interface RedisRateLimiterOptions {
  readonly redis: Redis
  /** Prefix of every key, e.g. `airlock:`. */
  readonly keyPrefix: string
}

// One sorted set per slot: member = admitted call, score = its time. ARGV: now, window, member,
// then one limit per key. Returns 0 when admitted, else the ms until there is room in every slot.
const TAKE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local limit = tonumber(ARGV[3 + i])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(entry[2]) + window - now)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
end
return 0
`

const reply = z.number().int().min(0)

/** Sliding-window call counts in Redis, shared by every replica; one Lua script per call (atomic). */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): CallRateLimiter {
  const take = defineVariadicRedisScript(options.redis, 'airlockTakeCall', TAKE)
  return {
    async take(slots, now) {
      if (slots.length === 0) return { ok: true }
      // Unique per call, so two calls in the same millisecond are two entries.
      const member = `${now}:${randomHex(6)}`
      const answer = reply.safeParse(
        await take(
          slots.map((slot) => `${options.keyPrefix}calls:${slot.key}`),
          [now, RATE_WINDOW_MS, member, ...slots.map((slot) => slot.limit)],
        ),
      )
      if (!answer.success) throw new StateError('STATE_UNAVAILABLE', 'Redis rate limit returned an unexpected reply', { cause: answer.error })
      return answer.data === 0 ? { ok: true } : { ok: false, retryAfterMs: answer.data }
    },
  }
}
