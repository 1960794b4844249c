import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { createManualClock } from '../../src/clock.js'
import { createMemoryApprovalStore } from '../../src/state/memory-approval-store.js'
import { createRedisApprovalStore } from '../../src/state/redis-approval-store.js'
import { policyOf } from '../policy/policy-fixture.js'
import { bob, carol, gateway, NOW, ofType, person, policyWith, requestIdOf, text, ARGS, type Gateway } from './support/approval-gateway.js'

// Waiting for an approval with progress, the review tools in the call path, and two replicas on one Redis.

describe('waiting for an approval (the client asked for progress)', () => {
  it('waits with progress and runs as soon as it is approved', async () => {
    const clock = createManualClock(NOW)
    const policy = policyWith({})
    let gw: Gateway | undefined
    gw = gateway(clock, createMemoryApprovalStore(), policy, {
      maxMs: 60_000,
      onPoll: async (poll) => {
        if (poll !== 3 || gw === undefined) return
        const [request] = await gw.approvals.list(carol, policy)
        assert.ok(request !== undefined, 'the request is listed while bob waits')
        await gw.approvals.decide(carol, policy, request.id, 'approve', 'ok')
      },
    })
    const progress: string[] = []
    const result = await gw.callWaiting({ deployment: 'payments' }, new AbortController().signal, progress)
    assert.equal(text(result), 'restarted payments')
    assert.equal(progress.length, 3)
    assert.match(progress[0] ?? '', /^Waiting for sre-leads to approve request \S+; 60 s left to wait\.$/)
    assert.deepEqual(ofType(gw.events, 'tools.call').map((e) => e.outcome), ['ok'], 'one call, one record')
  })

  it('answers APPROVAL_PENDING when the wait is over, and the request stays', async () => {
    const clock = createManualClock(NOW)
    const policy = policyWith({})
    const gw = gateway(clock, createMemoryApprovalStore(), policy, { maxMs: 5_000, onPoll: async () => undefined })
    const progress: string[] = []
    const result = await gw.callWaiting({ deployment: 'payments' }, new AbortController().signal, progress)
    assert.match(text(result), /^\[APPROVAL_PENDING\]/)
    assert.equal(progress.length, 5)
    assert.equal((await gw.approvals.list(carol, policy)).length, 1)
  })

  it('stops only the wait when cancelled: the request can still be approved and run', async () => {
    const clock = createManualClock(NOW)
    const policy = policyWith({})
    const cancel = new AbortController()
    const gw = gateway(clock, createMemoryApprovalStore(), policy, { maxMs: 60_000, onPoll: async (poll) => void (poll === 2 && cancel.abort()) })
    const result = await gw.callWaiting({ deployment: 'payments' }, cancel.signal, [])
    assert.match(text(result), /^\[APPROVAL_PENDING\]/)
    assert.equal(clock.now(), NOW + 2_000, 'the wait ended at the cancellation')
    const id = requestIdOf(result)
    await gw.approvals.decide(carol, policy, id, 'approve', 'ok')
    assert.equal(text(await gw.call({ deployment: 'payments' })), 'restarted payments')
  })

  it('does not wait without a progressToken', async () => {
    const clock = createManualClock(NOW)
    const gw = gateway(clock, createMemoryApprovalStore(), policyWith({}), { maxMs: 60_000, onPoll: async () => assert.fail('no wait') })
    assert.match(text(await gw.call({ deployment: 'payments' })), /^\[APPROVAL_PENDING\]/)
    assert.equal(clock.now(), NOW)
  })
})

describe('an approval grant for a tool the gateway does not have', () => {
  it('refuses a tool the gateway does not have under an approval grant for it, and makes no request', async () => {
    const policy = policyOf({ version: 1, grants: [{ id: 'ghost', description: 'ghost', groups: ['sre'], tools: ['ghost'], ttl: '15m', approval: { approverGroups: ['sre-leads'] } }] })
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policy)
    const result = await gw.callTool('ghost', { approvalReason: 'why not' }, bob)
    assert.match(text(result), /^\[APPROVAL_REQUIRED\] /, text(result))
    assert.deepEqual(ofType(gw.events, 'approval.requested'), [], 'no request for a tool that cannot run')
    assert.deepEqual(gw.runs, [])
  })
})

describe('the review tools', () => {
  it('are listed only to approvers; the requester sees the tool they may ask for', () => {
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policyWith({}))
    assert.deepEqual(gw.list(carol), ['list_requests', 'review_request'])
    assert.deepEqual(gw.list(bob), ['restart'], 'a tool reachable only with approval is listed, so the agent can ask')
    assert.deepEqual(gw.list(person('mallory', [])), [])
  })

  it('let an approver\'s agent list and decide; the requester\'s call then runs', async () => {
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policyWith({ reasonRequired: true }))
    const id = requestIdOf(await gw.call(ARGS))
    const listed = await gw.callTool('list_requests', {}, carol)
    assert.match(text(listed), new RegExp(`^${id}: bob wants restart \\{"deployment":"payments"\\} under grant restart \\(reason: "crash loop since 11:40"; 10m00s left\\)$`))
    assert.deepEqual((listed.structuredContent as { requests: { id: string }[] }).requests.map((r) => r.id), [id])
    const refused = await gw.callTool('review_request', { id, decision: 'approve', reason: 'mine' }, person('bob', ['sre', 'sre-leads']))
    assert.match(text(refused), /^\[SELF_APPROVAL\]/)
    const notListed = await gw.callTool('review_request', { id, decision: 'approve', reason: 'ok' }, bob)
    assert.match(text(notListed), /^\[POLICY_DENIED\]/, 'a requester cannot reach the review tool at all')
    const noReason = await gw.callTool('review_request', { id, decision: 'approve' }, carol)
    assert.match(text(noReason), /^\[INPUT_INVALID\]/)
    const approved = await gw.callTool('review_request', { id, decision: 'approve', reason: 'pods checked' }, carol)
    assert.match(text(approved), new RegExp(`^Approved: ${id}: bob wants restart`))
    assert.equal(text(await gw.call(ARGS)), 'restarted payments')
  })
})

describe('two gateways on one Redis', () => {
  let redis: Redis
  const keyPrefix = `airlock-test:${randomBytes(6).toString('hex')}:`
  before(() => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 })
  })
  after(async () => {
    const keys = await redis.keys(`${keyPrefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })

  it('see the same request: asked on one, approved on the other, run on the first, once', async () => {
    const clock = createManualClock(NOW)
    const policy = policyWith({})
    const one = gateway(clock, createRedisApprovalStore({ redis, keyPrefix }), policy)
    const two = gateway(clock, createRedisApprovalStore({ redis, keyPrefix }), policy)
    const id = requestIdOf(await one.call({ deployment: 'payments' }))
    assert.equal(requestIdOf(await two.call({ deployment: 'payments' })), id, 'the other replica finds the same request')
    const listed = await two.approvals.list(carol, policy)
    assert.deepEqual(listed.map((r) => r.id), [id])
    await two.approvals.decide(carol, policy, id, 'approve', 'ok')
    const [a, b] = await Promise.all([one.call({ deployment: 'payments' }), two.call({ deployment: 'payments' })])
    assert.equal(one.runs.length + two.runs.length, 1, 'a once-approval runs on exactly one replica')
    assert.ok([a, b].some((r) => text(r) === 'restarted payments'), 'one of them ran')
  })
})
