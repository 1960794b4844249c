import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { defineRedisScript, redisCall } from './redis-script.js'
import { staleness, type EndedSession, type SessionLimits, type SessionStore, type StoredSession } from './session-store.js'

export interface RedisSessionStoreOptions extends SessionLimits {
  readonly redis: Redis
  /** Prefix of every key, e.g. `airlock:` (one per deployment sharing a Redis). */
  readonly keyPrefix: string
  /**
   * How long a lapsed session's record outlives its deadline before Redis drops it by itself, so
   * that a sweep still finds it and records its end. Redis's own clock only collects garbage: every
   * decision uses the gateway's clock.
   */
  readonly retainMs?: number
}

// Keys: <p>session:<idHash> (hash), <p>sessions (zset id → deadline), <p>subject-sessions:<subjectHash> (zset id → createdAt).
// Fields of the hash: iss, sub, sh (subject hash), c (created), l (last seen), e (expires).

const OPEN = `
local now = tonumber(ARGV[8])
if redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[8], '+inf') >= tonumber(ARGV[11]) then return {0} end
local out = {1}
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  if redis.call('EXISTS', ARGV[12] .. 'session:' .. id) == 0 then redis.call('ZREM', KEYS[3], id) end
end
while redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[10]) do
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  local key = ARGV[12] .. 'session:' .. oldest
  local f = redis.call('HMGET', key, 'iss', 'sub', 'c', 'l', 'e')
  redis.call('ZREM', KEYS[3], oldest)
  redis.call('ZREM', KEYS[2], oldest)
  redis.call('DEL', key)
  if f[1] then
    table.insert(out, oldest)
    for i = 1, 5 do table.insert(out, f[i]) end
  end
end
local deadline = math.min(tonumber(ARGV[7]), tonumber(ARGV[6]) + tonumber(ARGV[9]))
redis.call('HSET', KEYS[1], 'iss', ARGV[2], 'sub', ARGV[3], 'sh', ARGV[4], 'c', ARGV[5], 'l', ARGV[6], 'e', ARGV[7])
redis.call('PEXPIRE', KEYS[1], math.max(deadline - now, 0) + tonumber(ARGV[13]))
redis.call('ZADD', KEYS[2], deadline, ARGV[1])
redis.call('ZADD', KEYS[3], tonumber(ARGV[5]), ARGV[1])
local keep = math.max(tonumber(ARGV[7]) - now, 0) + tonumber(ARGV[13])
if redis.call('PTTL', KEYS[3]) < keep then redis.call('PEXPIRE', KEYS[3], keep) end
return out
`

const TOUCH = `
local f = redis.call('HMGET', KEYS[1], 'iss', 'sub', 'sh', 'c', 'l', 'e')
if not f[1] then return {'unknown'} end
if f[1] ~= ARGV[2] or f[2] ~= ARGV[3] then return {'wrong_subject'} end
local now = tonumber(ARGV[4])
local idle = tonumber(ARGV[5])
local expires = tonumber(f[6])
local reason = false
if now >= expires then reason = 'expired' elseif now - tonumber(f[5]) >= idle then reason = 'idle' end
if reason then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', ARGV[6] .. 'subject-sessions:' .. f[3], ARGV[1])
  return {reason, f[4], f[5], f[6]}
end
local seen = math.max(now, tonumber(f[5]))
redis.call('HSET', KEYS[1], 'l', seen)
local deadline = math.min(expires, seen + idle)
redis.call('ZADD', KEYS[2], deadline, ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.max(deadline - now, 0) + tonumber(ARGV[7]))
return {'ok', f[4], tostring(seen), f[6]}
`

const END = `
local f = redis.call('HMGET', KEYS[1], 'iss', 'sub', 'sh', 'c', 'l', 'e')
redis.call('ZREM', KEYS[2], ARGV[1])
if not f[1] then return {} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[2] .. 'subject-sessions:' .. f[3], ARGV[1])
return {f[1], f[2], f[4], f[5], f[6]}
`

const SWEEP = `
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[3] .. 'session:' .. id
  local f = redis.call('HMGET', key, 'iss', 'sub', 'sh', 'c', 'l', 'e')
  if f[1] then
    redis.call('DEL', key)
    redis.call('ZREM', ARGV[3] .. 'subject-sessions:' .. f[3], id)
    table.insert(out, id)
    table.insert(out, f[1])
    table.insert(out, f[2])
    table.insert(out, f[4])
    table.insert(out, f[5])
    table.insert(out, f[6])
  end
end
return out
`

const DEFAULT_RETAIN_MS = 60 * 60 * 1000

function strings(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new TypeError('unexpected Redis script reply')
  return reply.map((item) => (typeof item === 'number' ? String(item) : typeof item === 'string' ? item : ''))
}

/** A session from six reply fields: id hash, issuer, subject, created, last seen, expires. */
function sessionAt(fields: readonly string[], at: number): StoredSession {
  const [idHash, issuer, subject, createdAt, lastSeenAt, expiresAt] = fields.slice(at, at + 6)
  return {
    idHash: idHash ?? '',
    issuer: issuer ?? '',
    subject: subject ?? '',
    createdAt: Number(createdAt),
    lastSeenAt: Number(lastSeenAt),
    expiresAt: Number(expiresAt),
  }
}

/**
 * Sessions in Redis, shared by every replica: each operation is one Lua script, so opening
 * (with per-subject eviction and the total cap), touching, ending and sweeping are atomic.
 * Assumes a single Redis primary (or one cluster slot: put a hash tag such as `{airlock}` in the prefix).
 */
export function createRedisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const { redis, keyPrefix: prefix, idleTimeoutMs } = options
  const retainMs = options.retainMs ?? DEFAULT_RETAIN_MS
  const allKey = `${prefix}sessions`
  const sessionKey = (idHash: string) => `${prefix}session:${idHash}`
  const subjectHash = (issuer: string, subject: string) => createHash('sha256').update(`${issuer}\u0000${subject}`).digest('hex').slice(0, 32)
  const open = defineRedisScript(redis, 'airlockSessionOpen', 3, OPEN)
  const touch = defineRedisScript(redis, 'airlockSessionTouch', 2, TOUCH)
  const end = defineRedisScript(redis, 'airlockSessionEnd', 2, END)
  const sweep = defineRedisScript(redis, 'airlockSessionSweep', 1, SWEEP)

  return {
    async open(session, now) {
      const sh = subjectHash(session.issuer, session.subject)
      const reply = strings(
        await open(
          [sessionKey(session.idHash), allKey, `${prefix}subject-sessions:${sh}`],
          [session.idHash, session.issuer, session.subject, sh, session.createdAt, session.lastSeenAt, session.expiresAt, now, idleTimeoutMs, options.maxPerSubject, options.maxTotal, prefix, retainMs],
        ),
      )
      if (reply[0] !== '1') return { ok: false }
      const evicted: StoredSession[] = []
      for (let at = 1; at + 6 <= reply.length; at += 6) evicted.push(sessionAt(reply, at))
      return { ok: true, evicted }
    },
    async touch(idHash, issuer, subject, now) {
      const reply = strings(await touch([sessionKey(idHash), allKey], [idHash, issuer, subject, now, idleTimeoutMs, prefix, retainMs]))
      const [status, createdAt, lastSeenAt, expiresAt] = reply
      if (status === 'unknown' || status === 'wrong_subject') return { ok: false, reason: status }
      const session = sessionAt([idHash, issuer, subject, createdAt ?? '', lastSeenAt ?? '', expiresAt ?? ''], 0)
      if (status === 'expired' || status === 'idle') return { ok: false, reason: status, session }
      return { ok: true, session }
    },
    async end(idHash) {
      const reply = strings(await end([sessionKey(idHash), allKey], [idHash, prefix]))
      return reply.length === 0 ? undefined : sessionAt([idHash, ...reply], 0)
    },
    async sweep(now, max) {
      const reply = strings(await sweep([allKey], [now, max, prefix]))
      const ended: EndedSession[] = []
      for (let at = 0; at + 6 <= reply.length; at += 6) {
        const session = sessionAt(reply, at)
        ended.push({ session, reason: staleness(session, now, idleTimeoutMs) ?? 'expired' })
      }
      return ended
    },
    async count(now) {
      return redisCall('ZCOUNT', () => redis.zcount(allKey, `(${now}`, '+inf'))
    },
  }
}
