import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { redactArgs } from '../../src/audit/redact-args.js'
import { createManualClock } from '../../src/clock.js'
import { hashArgs } from '../../src/mcp/hash-args.js'
import { StateError } from '../../src/errors.js'
import type { ApprovalStore } from '../../src/state/approval-store.js'
import { createMemoryApprovalStore } from '../../src/state/memory-approval-store.js'
import { policyOf } from '../policy/policy-fixture.js'
import { ARGS, bob, carol, gateway, ISS, MIN, NOW, ofType, person, policyWith, rejects, requestIdOf, text } from './support/approval-gateway.js'

// The approval flow end to end below HTTP: a call under an approval grant, a human decision, the
// call again; what runs, what is answered and what the audit says at each step.

describe('a call under an approval grant', () => {
  it('waits as APPROVAL_PENDING with the request id and what happens next; the same call finds the same request', async () => {
    const clock = createManualClock(NOW)
    const gw = gateway(clock, createMemoryApprovalStore(), policyWith({ reasonRequired: true }))
    const first = await gw.call(ARGS)
    assert.equal(first.isError, true)
    const id = requestIdOf(first)
    assert.match(text(first), new RegExp(`^\\[APPROVAL_PENDING\\] This call waits for a human approval; it did nothing yet\\. Request ${id} asks sre-leads to approve this exact call; nothing has run\\. Call again with the same arguments once it is approved \\(it expires at 12:10 UTC if nobody decides\\)\\.`))
    assert.deepEqual(gw.runs, [], 'nothing ran')
    clock.advance(MIN)
    const second = await gw.call({ ...ARGS, approvalReason: 'still broken' })
    assert.equal(requestIdOf(second), id, 'the reason is not part of the call: same request')
    const requested = ofType(gw.events, 'approval.requested')
    assert.equal(requested.length, 1, 'one request, recorded once')
    assert.equal(requested[0]?.actor?.sub, 'bob')
    assert.equal(requested[0]?.argsHash, hashArgs({ deployment: 'payments' }))
    assert.deepEqual(requested[0]?.detail, { requestId: id, state: 'pending', requester: { iss: ISS, sub: 'bob' }, requestReason: 'crash loop since 11:40', use: 'once', pendingUntil: '2026-12-01T12:10:00.000Z' })
    const calls = ofType(gw.events, 'tools.call')
    assert.deepEqual(calls.map((e) => [e.code, e.grantId, e.decision]), [['APPROVAL_PENDING', 'restart', 'deny'], ['APPROVAL_PENDING', 'restart', 'deny']])
  })

  it('refuses a call without the reason its grant requires, and makes no request', async () => {
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policyWith({ reasonRequired: true }))
    const result = await gw.call({ deployment: 'payments' })
    assert.match(text(result), /^\[INPUT_INVALID\]/)
    assert.equal((await gw.call({ deployment: 'payments', approvalReason: '  ' })).isError, true, 'a blank reason is no reason')
    assert.equal((await gw.call({ deployment: 7, approvalReason: 'x' })).isError, true, 'invalid arguments make no request')
    assert.deepEqual(ofType(gw.events, 'approval.requested'), [])
  })

  it('runs once approved, exactly once; the next call asks again', async () => {
    const clock = createManualClock(NOW)
    const policy = policyWith({})
    const gw = gateway(clock, createMemoryApprovalStore(), policy)
    const id = requestIdOf(await gw.call({ deployment: 'payments' }))
    const [listed] = await gw.approvals.list(carol, policy)
    assert.equal(listed?.id, id, 'carol sees bob\'s request')
    await gw.approvals.decide(carol, policy, id, 'approve', 'restart is safe, checked the pods')
    const ran = await gw.call({ deployment: 'payments' })
    assert.equal(text(ran), 'restarted payments')
    assert.deepEqual(gw.runs, [{ deployment: 'payments' }])
    const again = await gw.call({ deployment: 'payments' })
    assert.notEqual(requestIdOf(again), id, 'a used approval is not replayed: a new request')
    assert.equal(gw.runs.length, 1)
    const used = ofType(gw.events, 'approval.used')
    assert.equal(used.length, 1)
    assert.equal(used[0]?.actor?.sub, 'bob')
    assert.deepEqual(used[0]?.detail?.approver, { iss: ISS, sub: 'carol' })
    const approved = ofType(gw.events, 'approval.approved')
    assert.equal(approved[0]?.actor?.sub, 'carol')
    assert.deepEqual(approved[0]?.detail?.requester, { iss: ISS, sub: 'bob' })
    assert.equal(approved[0]?.reason, 'restart is safe, checked the pods')
    assert.equal(approved[0]?.argsHash, hashArgs({ deployment: 'payments' }))
  })

  it('does not spend an approval on a call the gateway refuses (rate limit)', async () => {
    const clock = createManualClock(NOW)
    const policy = policyWith({}, 'restart', 1)
    const gw = gateway(clock, createMemoryApprovalStore(), policy)
    const first = requestIdOf(await gw.call({ deployment: 'payments' }))
    const second = requestIdOf(await gw.call({ deployment: 'checkout' }))
    await gw.approvals.decide(carol, policy, first, 'approve', 'ok')
    await gw.approvals.decide(carol, policy, second, 'approve', 'ok')
    assert.equal(text(await gw.call({ deployment: 'payments' })), 'restarted payments')
    assert.match(text(await gw.call({ deployment: 'checkout' })), /^\[RATE_LIMITED\]/)
    clock.advance(MIN)
    assert.equal(text(await gw.call({ deployment: 'checkout' })), 'restarted checkout', 'the approval was still there')
    assert.equal(ofType(gw.events, 'approval.used').length, 2)
  })

  it('treats a changed argument after approval as a new request', async () => {
    const policy = policyWith({})
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policy)
    const id = requestIdOf(await gw.call({ deployment: 'payments' }))
    await gw.approvals.decide(carol, policy, id, 'approve', 'ok')
    const other = await gw.call({ deployment: 'checkout' })
    assert.notEqual(requestIdOf(other), id)
    assert.deepEqual(gw.runs, [], 'the approval of payments does not run checkout')
  })

  it('asks again when the policy changed after the approval (the call is re-evaluated)', async () => {
    const policy = policyWith({})
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policy)
    const id = requestIdOf(await gw.call({ deployment: 'payments' }))
    await gw.approvals.decide(carol, policy, id, 'approve', 'ok')
    const changed = policyWith({}, 'restart, now described differently')
    assert.notEqual(requestIdOf(await gw.call({ deployment: 'payments' }, bob, changed)), id)
    assert.deepEqual(gw.runs, [])
  })

  it('honours a window: the same call runs again until it ends, then expires and asks again', async () => {
    const clock = createManualClock(NOW)
    const policy = policyWith({ use: 'window', accessTtl: '5m' })
    const gw = gateway(clock, createMemoryApprovalStore(), policy)
    const id = requestIdOf(await gw.call({ deployment: 'payments' }))
    await gw.approvals.decide(carol, policy, id, 'approve', 'ok for five minutes')
    assert.equal(text(await gw.call({ deployment: 'payments' })), 'restarted payments')
    clock.advance(4 * MIN)
    assert.equal(text(await gw.call({ deployment: 'payments' })), 'restarted payments')
    clock.advance(MIN)
    const after = await gw.call({ deployment: 'payments' })
    assert.notEqual(requestIdOf(after), id, 'the window has ended')
    assert.equal(gw.runs.length, 2)
    const expired = ofType(gw.events, 'approval.expired')
    assert.deepEqual(expired.map((e) => [e.detail?.requestId, e.detail?.state, e.actor?.sub]), [[id, 'expired', 'bob']])
  })

  it('keeps a denial: the same call stays denied', async () => {
    const policy = policyWith({})
    const clock = createManualClock(NOW)
    const gw = gateway(clock, createMemoryApprovalStore(), policy)
    const id = requestIdOf(await gw.call({ deployment: 'payments' }))
    await gw.approvals.decide(carol, policy, id, 'deny', 'not during the freeze')
    clock.advance(30 * MIN)
    const denied = await gw.call({ deployment: 'payments' })
    assert.match(text(denied), /^\[APPROVAL_DENIED\] .* denied by carol\. Reason given: "not during the freeze"\./)
    assert.equal(requestIdOf(denied), id)
    await rejects(gw.approvals.decide(carol, policy, id, 'approve', 'changed my mind'), 'REQUEST_NOT_PENDING')
    assert.deepEqual(gw.runs, [])
    const [deniedEvent] = ofType(gw.events, 'approval.denied')
    assert.equal(deniedEvent?.actor?.sub, 'carol')
    assert.deepEqual(deniedEvent?.detail?.requester, { iss: ISS, sub: 'bob' })
  })

  it('expires a pending request: it can no longer be approved, the expiry is audited once, and the call asks again', async () => {
    const clock = createManualClock(NOW)
    const policy = policyWith({ pendingTtl: '2m' })
    const gw = gateway(clock, createMemoryApprovalStore(), policy)
    const id = requestIdOf(await gw.call({ deployment: 'payments' }))
    clock.advance(2 * MIN)
    await rejects(gw.approvals.decide(carol, policy, id, 'approve', 'late'), 'REQUEST_NOT_PENDING')
    assert.deepEqual(await gw.approvals.list(carol, policy), [])
    const next = await gw.call({ deployment: 'payments' })
    assert.notEqual(requestIdOf(next), id)
    assert.deepEqual(ofType(gw.events, 'approval.expired').map((e) => e.detail?.requestId), [id], 'audited once')
    assert.deepEqual(gw.runs, [])
  })

  it('refuses self-approval, an approver without the group, unknown ids and a blank reason', async () => {
    const policy = policyWith({})
    const both = person('bob', ['sre', 'sre-leads'])
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policy)
    const id = requestIdOf(await gw.call({ deployment: 'payments' }, both))
    assert.deepEqual(await gw.approvals.list(both, policy), [], 'an approver does not see their own request')
    await rejects(gw.approvals.decide(both, policy, id, 'approve', 'me'), 'SELF_APPROVAL')
    await rejects(gw.approvals.decide({ ...both, email: 'other@example.com' }, policy, id, 'deny', 'me'), 'SELF_APPROVAL')
    await rejects(gw.approvals.decide(person('dave', ['sre']), policy, id, 'approve', 'ok'), 'NOT_APPROVER')
    await rejects(gw.approvals.decide({ ...carol, groups: [] }, policy, id, 'approve', 'ok'), 'NOT_APPROVER')
    await rejects(gw.approvals.decide(carol, policy, 'no-such-id', 'approve', 'ok'), 'REQUEST_NOT_FOUND')
    await rejects(gw.approvals.decide(carol, policy, id, 'approve', ' '), 'INPUT_INVALID')
    const otherIssuer = { ...carol, subject: 'bob', issuer: 'https://other-idp.test' }
    const decided = await gw.approvals.decide(otherIssuer, policy, id, 'approve', 'another issuer\'s bob is someone else')
    assert.equal(decided.state, 'approved')
    assert.deepEqual(ofType(gw.events, 'approval.approved').length, 1, 'refusals change nothing')
  })

  it('shows the approver the arguments redacted as in the audit', async () => {
    const policy = policyWith({})
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policy)
    await gw.call({ deployment: 'payments', password: 'hunter2-hunter2' })
    const [listed] = await gw.approvals.list(carol, policy)
    const [requested] = ofType(gw.events, 'approval.requested')
    assert.deepEqual(listed?.args, requested?.args)
    assert.deepEqual(listed?.args, redactArgs({ deployment: 'payments', password: 'hunter2-hunter2' }))
    assert.ok(!JSON.stringify(listed).includes('hunter2'), 'the secret never reaches the approver')
  })
})

describe('a call that an allowing grant does not permit', () => {
  // bob may look at any deployment but restart only with approval; dave may only look.
  const policy = policyOf({
    version: 1,
    grants: [
      { id: 'look', description: 'look', groups: ['sre', 'viewers'], tools: ['restart'], ttl: '15m' },
      { id: 'restart', description: 'restart', groups: ['sre'], tools: ['restart'], ttl: '15m', approval: { approverGroups: ['sre-leads'] } },
    ],
  })
  const permits = (grant: { readonly id: string }, args: { readonly deployment: string }) =>
    grant.id === 'restart' ? args.deployment !== 'forbidden' : args.deployment === 'safe'
  const fresh = () => gateway(createManualClock(NOW), createMemoryApprovalStore(), policy, undefined, permits)

  it('runs under the allowing grant when it permits the arguments, without asking', async () => {
    const gw = fresh()
    assert.equal(text(await gw.call({ deployment: 'safe' })), 'restarted safe')
    assert.deepEqual(gw.runs, [{ deployment: 'safe', grant: 'look' }])
    assert.deepEqual(ofType(gw.events, 'approval.requested'), [], 'no request')
  })

  it('goes to the approval grant that permits them, reason and all: nothing runs until approved', async () => {
    const gw = fresh()
    const result = await gw.call({ deployment: 'payments', approvalReason: 'crash loop' })
    assert.match(text(result), /^\[APPROVAL_PENDING\]/, text(result))
    requestIdOf(result)
    assert.deepEqual(gw.runs, [], 'the read grant did not run the restart')
    const calls = ofType(gw.events, 'tools.call')
    assert.deepEqual(calls.map((e) => [e.code, e.grantId, e.decision]), [['APPROVAL_PENDING', 'restart', 'deny']])
    assert.equal(ofType(gw.events, 'approval.requested').length, 1, 'one request')
  })

  it('keeps the allowing decision when the approval grant does not permit them either, or the caller has none', async () => {
    const gw = fresh()
    assert.equal(text(await gw.call({ deployment: 'forbidden', approvalReason: 'x' })), 'restarted forbidden')
    const dave = person('dave', ['viewers'])
    assert.equal(text(await gw.call({ deployment: 'payments' }, dave)), 'restarted payments')
    assert.deepEqual(gw.runs, [{ deployment: 'forbidden', grant: 'look' }, { deployment: 'payments', grant: 'look' }])
    assert.deepEqual(ofType(gw.events, 'approval.requested'), [], 'no request')
  })

  it('leaves invalid arguments to the allowing grant, which refuses them', async () => {
    const gw = fresh()
    const result = await gw.call({ deployment: 7 })
    assert.match(text(result), /^\[INPUT_INVALID\]/, text(result))
    assert.deepEqual(gw.runs, [])
    assert.deepEqual(ofType(gw.events, 'tools.call').map((e) => [e.code, e.grantId, e.decision]), [['INPUT_INVALID', 'look', 'allow']])
  })
})

describe('an approval store that fails or loses the race', () => {
  function faultyStore(faults: { open?: boolean; consume?: 'throw' | 'taken' }): ApprovalStore {
    const base = createMemoryApprovalStore()
    return {
      ...base,
      open: async (ask, now) => {
        if (faults.open === true) throw new StateError('STATE_UNAVAILABLE', 'redis: connection refused')
        return base.open(ask, now)
      },
      consume: async (id, now) => {
        if (faults.consume === 'throw') throw new StateError('STATE_UNAVAILABLE', 'redis: connection refused')
        // Another call under the same once-approval wins between the check and the take.
        if (faults.consume === 'taken') await base.consume(id, now)
        return base.consume(id, now)
      },
    }
  }

  it('refuses the call, runs nothing and records the failure when the request cannot be made', async () => {
    const gw = gateway(createManualClock(NOW), faultyStore({ open: true }), policyWith({}))
    const result = await gw.call({ deployment: 'payments' })
    assert.match(text(result), /^\[STATE_UNAVAILABLE\] /, text(result))
    assert.deepEqual(gw.runs, [])
    assert.deepEqual(
      ofType(gw.events, 'tools.call').map((e) => [e.decision, e.grantId, e.outcome, e.code, e.reason]),
      [['deny', 'restart', 'error', 'STATE_UNAVAILABLE', 'redis: connection refused']],
    )
  })

  for (const [name, consume, code, decision, outcome, reason] of [
    ['the approval cannot be taken', 'throw', 'STATE_UNAVAILABLE', 'allow', 'error', 'redis: connection refused'],
    ['another call took the approval first', 'taken', 'APPROVAL_PENDING', 'deny', 'denied', 'APPROVAL_TAKEN'],
  ] as const) {
    it(`runs nothing when ${name}`, async () => {
      const faults: { consume?: 'throw' | 'taken' } = {}
      const policy = policyWith({})
      const gw = gateway(createManualClock(NOW), faultyStore(faults), policy)
      const id = requestIdOf(await gw.call({ deployment: 'payments' }))
      await gw.approvals.decide(carol, policy, id, 'approve', 'fine')
      faults.consume = consume
      const result = await gw.call({ deployment: 'payments' })
      assert.match(text(result), new RegExp(`^\\[${code}\\] `), text(result))
      if (consume === 'taken') assert.match(text(result), /used or ran out a moment ago; call again/, text(result))
      assert.deepEqual(gw.runs, [], 'the tool did not run')
      const last = ofType(gw.events, 'tools.call').at(-1)
      assert.deepEqual([last?.decision, last?.grantId, last?.outcome, last?.code, last?.reason], [decision, 'restart', outcome, code, reason])
    })
  }

  it('records what a pending call asked for: its hash, redacted arguments and the request', async () => {
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policyWith({}))
    const id = requestIdOf(await gw.call({ deployment: 'payments', password: 'hunter2' }))
    const [call] = ofType(gw.events, 'tools.call')
    assert.deepEqual(
      { decision: call?.decision, outcome: call?.outcome, code: call?.code, reason: call?.reason, argsHash: call?.argsHash, args: call?.args, detail: call?.detail },
      { decision: 'deny', outcome: 'denied', code: 'APPROVAL_PENDING', reason: 'APPROVAL_PENDING', argsHash: hashArgs({ deployment: 'payments', password: 'hunter2' }), args: redactArgs({ deployment: 'payments', password: 'hunter2' }), detail: { requestId: id } },
    )
    assert.notEqual(JSON.stringify(call?.args).includes('hunter2'), true, 'the password is not in the record')
  })

  it('records a call refused for its arguments as a denial with the reason', async () => {
    const gw = gateway(createManualClock(NOW), createMemoryApprovalStore(), policyWith({ reasonRequired: true }))
    await gw.call({ deployment: 'payments' })
    const [call] = ofType(gw.events, 'tools.call')
    assert.deepEqual([call?.decision, call?.outcome, call?.code, call?.grantId], ['deny', 'denied', 'INPUT_INVALID', 'restart'])
    assert.match(String(call?.reason), /approvalReason/, String(call?.reason))
  })
})
