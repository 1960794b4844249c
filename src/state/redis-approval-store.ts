import type { Redis } from 'ioredis'
import { z } from 'zod'
import { StateError } from '../errors.js'
import { APPROVAL_RETENTION_MS, bindingKey, type ApprovalRecord, type ApprovalStore } from './approval-store.js'
import { newApprovalId } from './memory-approval-store.js'
import { defineRedisScript, redisCall } from './redis-script.js'

export interface RedisApprovalStoreOptions {
  readonly redis: Redis
  /** Prefix of every key, e.g. `airlock:` (one per deployment sharing a Redis). */
  readonly keyPrefix: string
}

// Keys share the hash tag {approvals}, so each script may reach any request (Redis Cluster: one slot).
//   <p>approval:{approvals}:req:<id>   hash: rec (the request as made, JSON), st (state), pu (pending
//                                      until), am (access ms), use, bk (binding key), au (access
//                                      until), dec (decision JSON), ua (used at)
//   <p>approval:{approvals}:bind:<bk>  the binding's current request id
//   <p>approval:{approvals}:pending    zset of pending ids by pu
// Each state change below is one script (atomic), mirroring the memory store.

// KEYS: bind, pending, new request. ARGV: now, new id, rec, pendingMs, accessMs, use, request prefix, bk, retention.
const OPEN = `
local now = tonumber(ARGV[1])
local expired = {}
local id = redis.call('GET', KEYS[1])
if id then
  local key = ARGV[7] .. id
  local f = redis.call('HMGET', key, 'st', 'pu', 'au')
  if f[1] then
    local st = f[1]
    local pu = tonumber(f[2])
    local au = tonumber(f[3] or '0')
    if st == 'pending' and now < pu then return {'found', id} end
    if st == 'approved' and now < au then return {'found', id} end
    if st == 'denied' then return {'found', id} end
    if st == 'pending' or st == 'approved' then
      redis.call('HSET', key, 'st', 'expired')
      redis.call('ZREM', KEYS[2], id)
      table.insert(expired, id)
    end
  end
end
local retention = tonumber(ARGV[9])
local pu = now + tonumber(ARGV[4])
redis.call('HSET', KEYS[3], 'rec', ARGV[3], 'st', 'pending', 'pu', pu, 'am', ARGV[5], 'use', ARGV[6], 'bk', ARGV[8])
redis.call('PEXPIRE', KEYS[3], pu - now + retention)
redis.call('SET', KEYS[1], ARGV[2], 'PX', pu - now + retention)
redis.call('ZADD', KEYS[2], pu, ARGV[2])
return {'created', ARGV[2], unpack(expired)}
`

// KEYS: request, pending. ARGV: now, approved|denied, decision JSON, id, bind prefix, retention.
const DECIDE = `
local f = redis.call('HMGET', KEYS[1], 'st', 'pu', 'am', 'au', 'bk')
if not f[1] then return {'not_found'} end
local now = tonumber(ARGV[1])
local st = f[1]
if st == 'pending' and now < tonumber(f[2]) then
  redis.call('ZREM', KEYS[2], ARGV[4])
  if ARGV[2] == 'approved' then
    local au = now + tonumber(f[3])
    local keep = au - now + tonumber(ARGV[6])
    redis.call('HSET', KEYS[1], 'st', 'approved', 'dec', ARGV[3], 'au', au)
    redis.call('PEXPIRE', KEYS[1], keep)
    local bind = ARGV[5] .. f[5]
    if redis.call('GET', bind) == ARGV[4] then redis.call('PEXPIRE', bind, keep) end
  else
    redis.call('HSET', KEYS[1], 'st', 'denied', 'dec', ARGV[3])
  end
  return {'ok'}
end
if st == 'pending' or (st == 'approved' and now >= tonumber(f[4])) then
  redis.call('HSET', KEYS[1], 'st', 'expired')
  redis.call('ZREM', KEYS[2], ARGV[4])
  return {'not_pending', 1}
end
return {'not_pending', 0}
`

// KEYS: request. ARGV: now.
const CONSUME = `
local f = redis.call('HMGET', KEYS[1], 'st', 'au', 'use')
if not f[1] then return 'missing' end
if f[1] ~= 'approved' or tonumber(ARGV[1]) >= tonumber(f[2]) then return 'no' end
if f[3] == 'once' then redis.call('HSET', KEYS[1], 'st', 'used', 'ua', ARGV[1]) end
return 'ok'
`

// KEYS: pending. ARGV: now, request prefix. Marks overdue pending requests expired; returns their ids.
const SWEEP = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local expired = {}
for _, id in ipairs(ids) do
  local key = ARGV[2] .. id
  if redis.call('HGET', key, 'st') == 'pending' then
    redis.call('HSET', key, 'st', 'expired')
    table.insert(expired, id)
  end
  redis.call('ZREM', KEYS[1], id)
end
return expired
`

const identity = z.object({ iss: z.string(), sub: z.string(), groups: z.array(z.string()), email: z.string().optional() })
const asked = z.object({
  id: z.string(),
  binding: z.object({
    issuer: z.string(),
    subject: z.string(),
    tool: z.string(),
    connection: z.string().optional(),
    argsHash: z.string(),
    grantId: z.string(),
    policyFingerprint: z.string(),
  }),
  requester: identity,
  args: z.record(z.string(), z.unknown()),
  reason: z.string().optional(),
  approverGroups: z.array(z.string()),
  use: z.enum(['once', 'window']),
  accessMs: z.number(),
  pendingMs: z.number(),
  createdAt: z.number(),
  pendingUntil: z.number(),
})
const decision = z.object({ approver: identity, reason: z.string(), at: z.number() })
const stored = z.object({
  rec: z.string(),
  st: z.enum(['pending', 'approved', 'denied', 'expired', 'used']),
  au: z.string().optional(),
  dec: z.string().optional(),
  ua: z.string().optional(),
})
const openReply = z.union([z.tuple([z.literal('found'), z.string()]), z.tuple([z.literal('created'), z.string()], z.string())])
const decideReply = z.union([z.tuple([z.literal('ok')]), z.tuple([z.literal('not_found')]), z.tuple([z.literal('not_pending'), z.union([z.literal(0), z.literal(1)])])])

function parse<T>(schema: z.ZodType<T>, reply: unknown, what: string): T {
  const parsed = schema.safeParse(reply)
  if (!parsed.success) throw new StateError('STATE_UNAVAILABLE', `Redis ${what} returned an unexpected reply`, { cause: parsed.error })
  return parsed.data
}

function toRecord(fields: Record<string, string>): ApprovalRecord | undefined {
  if (Object.keys(fields).length === 0) return undefined
  const hash = parse(stored, fields, 'approval read')
  let made: unknown
  let decided: unknown
  try {
    made = JSON.parse(hash.rec)
    decided = hash.dec === undefined ? undefined : JSON.parse(hash.dec)
  } catch (error) {
    throw new StateError('STATE_UNAVAILABLE', 'Redis approval record is not JSON', { cause: error })
  }
  const base = parse(asked, made, 'approval read')
  const { connection, ...binding } = base.binding
  return {
    ...base,
    binding: { ...binding, connection },
    state: hash.st,
    ...(decided === undefined ? {} : { decision: parse(decision, decided, 'approval read') }),
    ...(hash.au === undefined ? {} : { accessUntil: Number(hash.au) }),
    ...(hash.ua === undefined ? {} : { usedAt: Number(hash.ua) }),
  }
}

/** Approval requests in Redis, shared by every replica; each transition is one Lua script (atomic). */
export function createRedisApprovalStore(options: RedisApprovalStoreOptions): ApprovalStore {
  const { redis } = options
  const base = `${options.keyPrefix}approval:{approvals}:`
  const requestPrefix = `${base}req:`
  const bindPrefix = `${base}bind:`
  const pendingKey = `${base}pending`
  const open = defineRedisScript(redis, 'airlockApprovalOpen', 3, OPEN)
  const decide = defineRedisScript(redis, 'airlockApprovalDecide', 2, DECIDE)
  const consume = defineRedisScript(redis, 'airlockApprovalConsume', 1, CONSUME)
  const sweep = defineRedisScript(redis, 'airlockApprovalSweep', 1, SWEEP)

  async function read(ids: readonly string[]): Promise<(ApprovalRecord | undefined)[]> {
    if (ids.length === 0) return []
    const replies = await redisCall('approval read', async () => {
      const results = await redis.pipeline(ids.map((id) => ['hgetall', `${requestPrefix}${id}`])).exec()
      if (results === null) throw new TypeError('pipeline was discarded')
      return results.map(([error, reply]) => {
        if (error !== null) throw error
        return reply as Record<string, string>
      })
    })
    return replies.map(toRecord)
  }

  async function readOne(id: string, what: string): Promise<ApprovalRecord> {
    const [record] = await read([id])
    if (record === undefined) throw new StateError('STATE_UNAVAILABLE', `Redis approval ${what}: request ${id} vanished`)
    return record
  }

  return {
    async open(ask, now) {
      const id = newApprovalId()
      const key = bindingKey(ask.binding)
      const rec = JSON.stringify({ ...ask, id, createdAt: now, pendingUntil: now + ask.pendingMs })
      const reply = parse(
        openReply,
        await open([`${bindPrefix}${key}`, pendingKey, `${requestPrefix}${id}`], [now, id, rec, ask.pendingMs, ask.accessMs, ask.use, requestPrefix, key, APPROVAL_RETENTION_MS]),
        'approval open',
      )
      if (reply[0] === 'found') return { record: await readOne(reply[1], 'open'), created: false, expired: [] }
      const [, created, ...expiredIds] = reply
      const [record, ...expired] = await read([created, ...expiredIds])
      if (record === undefined) throw new StateError('STATE_UNAVAILABLE', `Redis approval open: request ${created} vanished`)
      return { record, created: true, expired: expired.filter((r): r is ApprovalRecord => r !== undefined) }
    },
    async decide(id, state, made) {
      const reply = parse(
        decideReply,
        await decide([`${requestPrefix}${id}`, pendingKey], [made.at, state, JSON.stringify(made), id, bindPrefix, APPROVAL_RETENTION_MS]),
        'approval decide',
      )
      if (reply[0] === 'not_found') return { ok: false, reason: 'NOT_FOUND' }
      const record = await readOne(id, 'decide')
      if (reply[0] === 'ok') return { ok: true, record }
      return { ok: false, reason: 'NOT_PENDING', record, expiredNow: reply[1] === 1 }
    },
    async consume(id, now) {
      const reply = parse(z.enum(['ok', 'no', 'missing']), await consume([`${requestPrefix}${id}`], [now]), 'approval consume')
      if (reply === 'missing') return { ok: false, record: undefined }
      const record = await readOne(id, 'consume')
      return reply === 'ok' ? { ok: true, record } : { ok: false, record }
    },
    async get(id) {
      const [record] = await read([id])
      return record
    },
    async pending(now) {
      const expiredIds = parse(z.array(z.string()), await sweep([pendingKey], [now, requestPrefix]), 'approval sweep')
      const pendingIds = await redisCall('approval list', () => redis.zrange(pendingKey, 0, -1))
      const [expired, pending] = await Promise.all([read(expiredIds), read(pendingIds)])
      const live = pending.filter((r): r is ApprovalRecord => r !== undefined && r.state === 'pending')
      live.sort((a, b) => a.createdAt - b.createdAt)
      return { pending: live, expired: expired.filter((r): r is ApprovalRecord => r !== undefined) }
    },
  }
}
