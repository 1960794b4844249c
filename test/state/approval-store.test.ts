import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bindingKey, effectiveState, type ApprovalAsk, type ApprovalStore } from '../../src/state/approval-store.js'
import { createMemoryApprovalStore, newApprovalId } from '../../src/state/memory-approval-store.js'
import { createRedisApprovalStore } from '../../src/state/redis-approval-store.js'
import { useTestRedis } from '../support/test-redis.js'

const T0 = Date.parse('2026-12-01T12:00:00Z')
const MIN = 60_000
const BOB = { iss: 'https://idp.example.com', sub: 'bob', groups: ['sre'] }
const CAROL = { iss: 'https://idp.example.com', sub: 'carol', groups: ['sre-leads'], email: 'carol@example.com' }

function ask(extra: Partial<ApprovalAsk> = {}, argsHash = 'a'.repeat(64)): ApprovalAsk {
  return {
    binding: { issuer: BOB.iss, subject: BOB.sub, tool: 'kubectl', connection: 'demo-cluster', argsHash, grantId: 'restart', policyFingerprint: 'f'.repeat(64) },
    requester: BOB,
    args: { verb: 'rollout-restart', name: 'payments' },
    reason: 'payments is crash-looping',
    approverGroups: ['sre-leads'],
    use: 'once',
    accessMs: 5 * MIN,
    pendingMs: 10 * MIN,
    ...extra,
  }
}

const { redis, redisPrefix } = useTestRedis()

/** Each backend as two replicas sharing their state (two gateways on one Redis; for memory, one process). */
const backends: Array<[string, () => [ApprovalStore, ApprovalStore]]> = [
  [
    'memory',
    () => {
      const store = createMemoryApprovalStore()
      return [store, store]
    },
  ],
  [
    'redis',
    () => {
      const keyPrefix = redisPrefix()
      return [createRedisApprovalStore({ redis, keyPrefix }), createRedisApprovalStore({ redis, keyPrefix })]
    },
  ],
]

const decision = (at: number, reason = 'looked at the crash loop') => ({ approver: CAROL, reason, at })

for (const [name, replicas] of backends) {
  describe(`${name} approval store`, () => {
    it('makes one pending request per call; both replicas find the same one', async () => {
      const [a, b] = replicas()
      const first = await a.open(ask(), T0)
      assert.equal(first.created, true)
      assert.equal(first.record.state, 'pending')
      assert.equal(first.record.pendingUntil, T0 + 10 * MIN)
      assert.deepEqual(first.record.args, { verb: 'rollout-restart', name: 'payments' })
      assert.equal(first.record.reason, 'payments is crash-looping')
      const again = await b.open(ask(), T0 + MIN)
      assert.deepEqual(again, { record: first.record, created: false, expired: [] })
      assert.deepEqual(await b.get(first.record.id), first.record)
      assert.deepEqual((await b.pending(T0 + MIN)).pending.map((r) => r.id), [first.record.id])
    })

    it('keeps a request without a connection, reason or email as it was made', async () => {
      const [a, b] = replicas()
      const made = ask({ binding: { ...ask().binding, connection: undefined }, reason: undefined })
      const { record } = await a.open(made, T0)
      const found = await b.get(record.id)
      assert.equal(found?.binding.connection, undefined)
      assert.equal(found?.reason, undefined)
      assert.equal(bindingKey(found?.binding ?? made.binding), bindingKey(made.binding), 'the binding reads back identical')
    })

    it('treats a changed argument as a new request, even after an approval', async () => {
      const [a, b] = replicas()
      const first = await a.open(ask(), T0)
      assert.equal((await b.decide(first.record.id, 'approved', decision(T0 + MIN))).ok, true)
      const changed = await a.open(ask({}, 'b'.repeat(64)), T0 + 2 * MIN)
      assert.equal(changed.created, true, 'another argument hash is another call')
      assert.notEqual(changed.record.id, first.record.id)
      assert.equal(changed.record.state, 'pending')
    })

    it('approves once: the first use wins, the next is refused, and the call asks again', async () => {
      const [a, b] = replicas()
      const { record } = await a.open(ask(), T0)
      const approved = await b.decide(record.id, 'approved', decision(T0 + MIN))
      assert.ok(approved.ok, 'a pending request can be approved')
      assert.equal(approved.record.state, 'approved')
      assert.equal(approved.record.accessUntil, T0 + 6 * MIN)
      assert.deepEqual(approved.record.decision, decision(T0 + MIN))
      const found = await a.open(ask(), T0 + 2 * MIN)
      assert.equal(found.record.state, 'approved')
      const [one, two] = await Promise.all([a.consume(record.id, T0 + 2 * MIN), b.consume(record.id, T0 + 2 * MIN)])
      assert.equal([one, two].filter((c) => c.ok).length, 1, 'exactly one replica uses a once-approval')
      const used = await a.get(record.id)
      assert.equal(used?.state, 'used')
      assert.equal(used?.usedAt, T0 + 2 * MIN)
      assert.equal((await a.consume(record.id, T0 + 3 * MIN)).ok, false, 'a used approval is not replayed')
      const next = await b.open(ask(), T0 + 3 * MIN)
      assert.equal(next.created, true, 'after its use the same call needs a new approval')
      assert.deepEqual(next.expired, [])
    })

    it('honours a window until it ends, then expires it and asks again', async () => {
      const [a, b] = replicas()
      const { record } = await a.open(ask({ use: 'window', accessMs: 5 * MIN }), T0)
      await b.decide(record.id, 'approved', decision(T0))
      assert.equal((await a.consume(record.id, T0 + MIN)).ok, true)
      assert.equal((await b.consume(record.id, T0 + 5 * MIN - 1)).ok, true, 'the window allows the same call again')
      assert.equal((await a.get(record.id))?.state, 'approved', 'a window is not used up')
      assert.equal((await a.consume(record.id, T0 + 5 * MIN)).ok, false, 'the window has ended')
      const next = await b.open(ask({ use: 'window', accessMs: 5 * MIN }), T0 + 5 * MIN)
      assert.equal(next.created, true)
      assert.deepEqual(next.expired.map((r) => [r.id, r.state]), [[record.id, 'expired']], 'the ended window is recorded once')
    })

    it('keeps a denial: the same call stays denied and cannot be decided again', async () => {
      const [a, b] = replicas()
      const { record } = await a.open(ask(), T0)
      const denied = await b.decide(record.id, 'denied', decision(T0 + MIN, 'not during the freeze'))
      assert.ok(denied.ok && denied.record.state === 'denied', 'a pending request can be denied')
      assert.equal(denied.record.accessUntil, undefined)
      const again = await a.open(ask(), T0 + 60 * MIN)
      assert.equal(again.created, false)
      assert.equal(again.record.state, 'denied')
      const late = await b.decide(record.id, 'approved', decision(T0 + 2 * MIN))
      assert.deepEqual(late.ok ? 'approved' : late.reason, 'NOT_PENDING')
      assert.equal((await a.consume(record.id, T0 + 2 * MIN)).ok, false, 'a denied request never runs')
    })

    it('expires a pending request at its deadline: it can no longer be decided, and is reported once', async () => {
      const [a, b] = replicas()
      const { record } = await a.open(ask(), T0)
      const late = await b.decide(record.id, 'approved', decision(T0 + 10 * MIN))
      assert.ok(!late.ok && late.reason === 'NOT_PENDING' && late.expiredNow, 'the first to see it overdue marks it expired')
      assert.equal(late.record.state, 'expired')
      const later = await a.decide(record.id, 'approved', decision(T0 + 11 * MIN))
      assert.ok(!later.ok && later.reason === 'NOT_PENDING' && !later.expiredNow, 'and only the first')
      assert.equal((await a.consume(record.id, T0 + 11 * MIN)).ok, false)
    })

    it('sweeps overdue requests out of the pending list, reporting each once', async () => {
      const [a, b] = replicas()
      const old = await a.open(ask({ pendingMs: MIN }), T0)
      const fresh = await a.open(ask({}, 'c'.repeat(64)), T0 + 30_000)
      const swept = await b.pending(T0 + MIN)
      assert.deepEqual(swept.expired.map((r) => [r.id, r.state]), [[old.record.id, 'expired']])
      assert.deepEqual(swept.pending.map((r) => r.id), [fresh.record.id])
      assert.deepEqual((await a.pending(T0 + MIN)).expired, [], 'an expiry is reported once')
      const reopened = await a.open(ask({ pendingMs: MIN }), T0 + 2 * MIN)
      assert.equal(reopened.created, true, 'an expired request is followed by a new one')
      assert.deepEqual(reopened.expired, [], 'already reported by the sweep')
    })

    it('expires an unused once-approval when its time is over', async () => {
      const [a, b] = replicas()
      const { record } = await a.open(ask(), T0)
      await b.decide(record.id, 'approved', decision(T0))
      assert.equal((await a.consume(record.id, T0 + 5 * MIN)).ok, false)
      const next = await a.open(ask(), T0 + 5 * MIN)
      assert.deepEqual(next.expired.map((r) => r.id), [record.id])
    })

    it('knows nothing of an unknown id', async () => {
      const [a] = replicas()
      assert.deepEqual(await a.decide('nope', 'approved', decision(T0)), { ok: false, reason: 'NOT_FOUND' })
      assert.deepEqual(await a.consume('nope', T0), { ok: false, record: undefined })
      assert.equal(await a.get('nope'), undefined)
    })

    it('lets exactly one of two racing decisions win', async () => {
      const [a, b] = replicas()
      const { record } = await a.open(ask(), T0)
      const results = await Promise.all([a.decide(record.id, 'approved', decision(T0 + 1)), b.decide(record.id, 'denied', decision(T0 + 1))])
      assert.equal(results.filter((r) => r.ok).length, 1, 'one decision per request')
    })
  })
}

describe('effectiveState', () => {
  it('reads pending past its deadline and approvals past their time as expired', () => {
    assert.equal(effectiveState({ state: 'pending', pendingUntil: 10 }, 9), 'pending')
    assert.equal(effectiveState({ state: 'pending', pendingUntil: 10 }, 10), 'expired')
    assert.equal(effectiveState({ state: 'approved', pendingUntil: 10, accessUntil: 20 }, 19), 'approved')
    assert.equal(effectiveState({ state: 'approved', pendingUntil: 10, accessUntil: 20 }, 20), 'expired')
    assert.equal(effectiveState({ state: 'denied', pendingUntil: 10 }, 100), 'denied')
    assert.equal(effectiveState({ state: 'used', pendingUntil: 10 }, 100), 'used')
  })
})

describe('newApprovalId', () => {
  it('is 36 hex characters, so no id reads as an option on a command line', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newApprovalId()))
    assert.equal(ids.size, 2000, 'no repeats')
    for (const id of ids) assert.match(id, /^[0-9a-f]{36}$/)
  })
})
