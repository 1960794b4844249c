import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { z } from 'zod'
import { createApprovalService, type ApprovalService } from '../../src/approvals/approval-service.js'
import type { AuditEvent, AuditSink } from '../../src/audit/audit-event.js'
import { redactArgs } from '../../src/audit/redact-args.js'
import type { Principal } from '../../src/auth/principal.js'
import { createManualClock, type ManualClock } from '../../src/clock.js'
import { AirlockError } from '../../src/errors.js'
import { createAuditSampling } from '../../src/mcp/audit-sampling.js'
import { createCallAdmission } from '../../src/mcp/admit-call.js'
import { APPROVAL_REQUEST_META_KEY, createToolCaller, type CallResult } from '../../src/mcp/call-tool.js'
import { hashArgs } from '../../src/mcp/hash-args.js'
import { createToolCatalog } from '../../src/mcp/tool-catalog.js'
import type { Policy } from '../../src/policy/policy.js'
import type { ApprovalStore } from '../../src/state/approval-store.js'
import { createMemoryState } from '../../src/state/gateway-state.js'
import { createMemoryApprovalStore } from '../../src/state/memory-approval-store.js'
import { createRedisApprovalStore } from '../../src/state/redis-approval-store.js'
import { defineTool, type AnyToolDefinition, type ToolDeps } from '../../tools/define-tool.js'
import listRequests from '../../tools/list-requests.js'
import reviewRequest from '../../tools/review-request.js'
import { policyOf } from '../policy/policy-fixture.js'

// The approval flow end to end below HTTP: a call under an approval grant, a human decision, the
// call again; what runs, what is answered and what the audit says at each step.

const NOW = Date.parse('2026-12-01T12:00:00Z')
const MIN = 60_000
const ISS = 'https://idp.test'

function policyWith(approval: Record<string, unknown>, description = 'restart', callsPerMinute?: number): Policy {
  return policyOf({
    version: 1,
    grants: [
      {
        id: 'restart',
        description,
        groups: ['sre'],
        tools: ['restart'],
        ttl: '15m',
        approval: { approverGroups: ['sre-leads'], ...approval } as never,
        ...(callsPerMinute === undefined ? {} : { limits: { callsPerMinute } }),
      },
    ],
  })
}

function person(subject: string, groups: string[]): Principal {
  return { issuer: ISS, subject, groups, expiresAt: NOW / 1000 + 7200, issuedAt: NOW / 1000 - 60 }
}
const bob = person('bob', ['sre'])
const carol = person('carol', ['sre-leads'])

interface Gateway {
  readonly events: AuditEvent[]
  readonly runs: Record<string, unknown>[]
  readonly approvals: ApprovalService
  call(args: Record<string, unknown>, who?: Principal, policy?: Policy): Promise<CallResult>
  /** A call whose client sent a progressToken. */
  callWaiting(args: Record<string, unknown>, signal: AbortSignal, progress: string[]): Promise<CallResult>
  /** Any registered tool by name (the review tools). */
  callTool(name: string, args: Record<string, unknown>, who: Principal): Promise<CallResult>
  list(who: Principal): string[]
}

interface Waiting {
  /** Called at each poll, after the clock moved by the poll interval. */
  readonly onPoll: (poll: number) => Promise<void>
  readonly maxMs: number
}

function gateway(clock: ManualClock, store: ApprovalStore, policy: Policy, waiting?: Waiting): Gateway {
  const events: AuditEvent[] = []
  const runs: Record<string, unknown>[] = []
  const audit: AuditSink = { write: async (event) => void events.push(event) }
  const state = createMemoryState(clock)
  const approvals = createApprovalService({ store, audit, clock })
  const tool = defineTool({
    name: 'restart',
    title: 'Restart',
    description: 'Restarts a deployment.',
    connectionKinds: [],
    input: { deployment: z.string(), password: z.string().optional() },
    annotations: () => ({ readOnlyHint: false, destructiveHint: true }),
    handler: async (ctx) => {
      runs.push(ctx.args)
      return { text: `restarted ${ctx.args.deployment}` }
    },
  }) as unknown as AnyToolDefinition
  const logError = () => undefined
  const catalog = createToolCatalog([tool, listRequests, reviewRequest])
  const caller = createToolCaller({
    admit: createCallAdmission({ state, subjectLimits: {}, maxSignInAgeMs: 24 * 3600_000 }),
    activations: state.activations,
    catalog,
    deps: { clock } as unknown as ToolDeps,
    audit,
    denials: createAuditSampling({ audit, clock, logError }),
    clock,
    redactArgs: (args) => redactArgs(args),
    logError,
    approvals,
    ...(waiting === undefined
      ? {}
      : {
          approvalWait: {
            maxMs: waiting.maxMs,
            pollMs: 1_000,
            now: () => clock.now(),
            sleep: async (ms: number, signal: AbortSignal) => {
              clock.advance(ms)
              polls++
              await waiting.onPoll(polls)
              if (signal.aborted) throw new Error('cancelled')
            },
          },
        }),
  })
  let polls = 0
  return {
    events,
    runs,
    approvals,
    call: (args, who = bob, callPolicy = policy) =>
      caller({ principal: who, policy: callPolicy, session: { idHash: undefined }, name: 'restart', rawArgs: args, signal: new AbortController().signal, progress: async () => undefined }),
    callWaiting: (args, signal, progress) =>
      caller({ principal: bob, policy, session: { idHash: undefined }, name: 'restart', rawArgs: args, signal, progress: async (u) => void progress.push(u.message ?? ''), wantsProgress: true }),
    callTool: (name, args, who) =>
      caller({ principal: who, policy, session: { idHash: undefined }, name, rawArgs: args, signal: new AbortController().signal, progress: async () => undefined }),
    list: (who) => catalog.list(policy, who, clock.now()).map((t) => t.name),
  }
}

function text(result: CallResult): string {
  return result.content.map((c) => c.text).join('')
}

function requestIdOf(result: CallResult): string {
  const id = (result._meta as Record<string, unknown> | undefined)?.[APPROVAL_REQUEST_META_KEY]
  assert.ok(typeof id === 'string', `no request id in ${text(result)}`)
  return id
}

function ofType(events: readonly AuditEvent[], type: AuditEvent['type']): AuditEvent[] {
  return events.filter((e) => e.type === type)
}

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AirlockError && error.code === code, `expected ${code}`)
}

const ARGS = { deployment: 'payments', approvalReason: 'crash loop since 11:40' }

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
