import type { Redis } from 'ioredis'
import { z } from 'zod'
import { StateError } from '../errors.js'
import type { Activation, ActivationAnswer, ActivationKey, ActivationStore } from './activation-store.js'
import { identityTag } from './identity-tag.js'
import { defineRedisScript, redisCall } from './redis-script.js'

export interface RedisActivationStoreOptions {
  readonly redis: Redis
  /** Prefix of every key, e.g. `airlock:` (one per deployment sharing a Redis). */
  readonly keyPrefix: string
}

// Key: <p>activation:{<identity hash>}:<grantId> (hash). Fields: a (activated), e (expires), s (signed in), src,
// r ('0' until the period's grant.activated record is written; absent on periods stored before it existed: recorded).
// Lua numbers are doubles: epoch milliseconds are exact in them.

// decideActivation (activation-store.ts), as one atomic step. ARGV: now, ttlMs, notAfterMs or '',
// signedInAt or '', maxSignInAgeMs, source.
const ACTIVATE = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local notAfter = tonumber(ARGV[3])
local signedIn = tonumber(ARGV[4])
local maxAge = tonumber(ARGV[5])
local f = redis.call('HMGET', KEYS[1], 'a', 'e', 's', 'src', 'r')
if f[1] then
  local a = tonumber(f[1])
  local e = math.min(tonumber(f[2]), a + ttl)
  if notAfter then e = math.min(e, notAfter) end
  local recorded = 1
  if f[5] == '0' then recorded = 0 end
  if now < e then return {'active', a, e, tonumber(f[3]), f[4], recorded} end
  if (not signedIn) or signedIn <= e then return {'ended', a, e, tonumber(f[3]), f[4], recorded} end
end
if not signedIn then return {'sign_in_required', 'missing'} end
if signedIn <= now - maxAge then return {'sign_in_required', 'too_old'} end
local e = now + ttl
if notAfter then e = math.min(e, notAfter) end
redis.call('HSET', KEYS[1], 'a', ARGV[1], 'e', e, 's', ARGV[4], 'src', ARGV[6], 'r', '0')
redis.call('PEXPIRE', KEYS[1], math.max(e - now, 0) + maxAge)
local renewed = 0
if f[1] then renewed = 1 end
return {'started', now, e, signedIn, ARGV[6], 0, renewed}
`

// Marks the period that started at ARGV[1] as recorded; a later period of the key is left alone.
const MARK_RECORDED = `
if redis.call('HGET', KEYS[1], 'a') == ARGV[1] then redis.call('HSET', KEYS[1], 'r', '1') end
return 1
`

const activationReply = z.tuple([z.number(), z.number(), z.number(), z.literal('sign-in'), z.union([z.literal(0), z.literal(1)])])
const answerReply = z.union([
  z.tuple([z.enum(['active', 'ended']), ...activationReply.def.items]),
  z.tuple([z.literal('sign_in_required'), z.enum(['missing', 'too_old'])]),
  z.tuple([z.literal('started'), ...activationReply.def.items, z.union([z.literal(0), z.literal(1)])]),
])
// HMGET a e s src r of one key: all null when the key is absent (r alone for periods stored before it).
const storedReply = z.union([
  z.tuple([z.null(), z.null(), z.null(), z.null(), z.null()]),
  z.tuple([z.string(), z.string(), z.string(), z.literal('sign-in'), z.union([z.literal('0'), z.literal('1'), z.null()])]),
])

function toActivation([activatedAt, expiresAt, signedInAt, source, recorded]: z.infer<typeof activationReply>): Activation {
  return { activatedAt, expiresAt, signedInAt, source, recorded: recorded === 1 }
}

/** Parses a script's reply; anything unexpected (another writer's keys, a changed script) fails closed. */
function parse<T>(schema: z.ZodType<T>, reply: unknown, what: string): T {
  const parsed = schema.safeParse(reply)
  if (!parsed.success) throw new StateError('STATE_UNAVAILABLE', `Redis ${what} returned an unexpected reply`, { cause: parsed.error })
  return parsed.data
}

/** Activations in Redis, shared by every replica; each activate is one Lua script (atomic). */
export function createRedisActivationStore(options: RedisActivationStoreOptions): ActivationStore {
  const activate = defineRedisScript(options.redis, 'airlockActivate', 1, ACTIVATE)
  const markRecorded = defineRedisScript(options.redis, 'airlockActivationRecorded', 1, MARK_RECORDED)
  const keyOf = (key: ActivationKey) => `${options.keyPrefix}activation:${identityTag(key.issuer, key.subject)}:${key.grantId}`

  return {
    async activate(request) {
      const reply = parse(
        answerReply,
        await activate(
          [keyOf(request.key)],
          [request.now, request.ttlMs, request.notAfterMs ?? '', request.signedInAt ?? '', request.maxSignInAgeMs, 'sign-in'],
        ),
        'activate',
      )
      switch (reply[0]) {
        case 'sign_in_required':
          return { outcome: reply[0], reason: reply[1] }
        case 'started': {
          const [, activatedAt, expiresAt, signedInAt, source, recorded, renewed] = reply
          return { outcome: 'started', activation: toActivation([activatedAt, expiresAt, signedInAt, source, recorded]), renewed: renewed === 1 }
        }
        default: {
          const [outcome, ...fields] = reply
          return { outcome, activation: toActivation(fields) } satisfies ActivationAnswer
        }
      }
    },
    async markRecorded(key, activatedAt) {
      await markRecorded([keyOf(key)], [activatedAt])
    },
    async find(keys) {
      if (keys.length === 0) return []
      const results = await redisCall('activation lookup', async () => {
        const replies = await options.redis.pipeline(keys.map((key) => ['hmget', keyOf(key), 'a', 'e', 's', 'src', 'r'])).exec()
        if (replies === null) throw new TypeError('pipeline was discarded')
        return replies.map(([error, reply]) => {
          if (error !== null) throw error
          return reply
        })
      })
      return results.map((reply) => {
        const fields = parse(storedReply, reply, 'activation lookup')
        if (fields[0] === null) return undefined
        const [activatedAt, expiresAt, signedInAt, source, recorded] = fields
        return { activatedAt: Number(activatedAt), expiresAt: Number(expiresAt), signedInAt: Number(signedInAt), source, recorded: recorded !== '0' }
      })
    },
  }
}
