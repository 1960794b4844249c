import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError, StateError } from '../../src/errors.js'
import type { AdmitCall } from '../../src/mcp/admit-call.js'
import { correlationIn, harness, NOW, principal, replyText } from './support/call-harness.js'

// What the call pipeline does with the admission step's answer: a state store that cannot answer,
// refusals over the limits, the record of a period that starts, and the places a call holds.

const iso = (ms: number) => new Date(ms).toISOString()

function failingAdmit(reason: unknown): (real: AdmitCall) => AdmitCall {
  return () => async () => {
    throw reason
  }
}

describe('callTool: the state store cannot answer', () => {
  it('refuses with STATE_UNAVAILABLE, runs nothing, records and logs the failure', async () => {
    const failure = new StateError('STATE_UNAVAILABLE', 'redis: connection refused')
    const h = harness({ admit: failingAdmit(failure) })
    const result = await h.call()
    const id = correlationIn(result)
    assert.equal(
      replyText(result),
      `[STATE_UNAVAILABLE] The gateway could not reach its state store, so the call was refused and did nothing; retry in a few seconds. (correlation id ${id})`,
    )
    assert.equal(result.isError, true, 'an error result')
    assert.equal(h.handled.length, 0, 'the tool did not run')
    assert.deepEqual(h.logged, [{ message: `state store failed for call ${id}; the call was refused`, error: failure, fields: { correlationId: id } }])
    assert.equal(h.events.length, 1, 'one record')
    const record = h.events[0]
    assert.ok(record !== undefined, 'recorded')
    assert.deepEqual(
      { type: record.type, decision: record.decision, grantId: record.grantId, outcome: record.outcome, code: record.code, reason: record.reason, correlationId: record.correlationId },
      { type: 'tools.call', decision: 'allow', grantId: 'echo-ops', outcome: 'error', code: 'STATE_UNAVAILABLE', reason: 'redis: connection refused', correlationId: id },
    )
  })

  it('records every such failure (they are not sampled like denials)', async () => {
    const h = harness({ admit: failingAdmit(new StateError('STATE_UNAVAILABLE', 'down')) })
    await h.call()
    await h.call()
    assert.equal(h.events.length, 2, 'both failures recorded')
  })

  it('answers INTERNAL for anything else the admission throws, and records a non-error as text', async () => {
    const h = harness({ admit: failingAdmit('not an error') })
    const result = await h.call()
    assert.match(replyText(result), /^\[INTERNAL\] The gateway failed to complete the call\. \(correlation id [0-9a-f]{12}\)$/)
    assert.equal(h.handled.length, 0, 'the tool did not run')
    assert.equal(h.events[0]?.reason, 'not an error')
    assert.equal(h.events[0]?.code, 'INTERNAL')
  })
})

describe('callTool: limits', () => {
  it('refuses a call over calls-per-minute without running it, counts the refusal, and samples its record', async () => {
    const h = harness({ withMetrics: true })
    const paced = principal(['paced'])
    assert.equal(replyText(await h.call({ principal: paced })), 'echo hi')
    assert.equal(replyText(await h.call({ principal: paced })), 'echo hi')
    const refused = await h.call({ principal: paced })
    const id = correlationIn(refused)
    assert.equal(replyText(refused), `[RATE_LIMITED] Too many calls; this one was refused and did nothing. Retry after 60 s. (correlation id ${id})`)
    assert.equal(h.handled.length, 2, 'the third call did not run')
    assert.deepEqual(
      h.metrics.filter((m) => 'rateLimited' in m),
      [{ rateLimited: 'calls_per_minute' }],
    )
    const record = h.events.at(-1)
    assert.ok(record !== undefined, 'recorded')
    assert.deepEqual(
      { decision: record.decision, outcome: record.outcome, code: record.code, reason: record.reason, grantId: record.grantId, correlationId: record.correlationId },
      { decision: 'deny', outcome: 'denied', code: 'RATE_LIMITED', reason: 'CALLS_PER_MINUTE', grantId: 'twice-a-minute', correlationId: id },
    )
    await h.call({ principal: paced })
    assert.equal(h.events.length, 3, 'a second refusal in the window is counted, not written')
  })

  it('refuses a second call in flight, counts it, and admits the next one once the first has finished', async () => {
    const h = harness({ withMetrics: true })
    const serial = principal(['serial'])
    let finishFirst: () => void = () => {}
    h.handler = async () => {
      await new Promise<void>((resolve) => {
        finishFirst = resolve
      })
      return { text: 'first' }
    }
    const first = h.call({ principal: serial })
    // Let the first call reach its tool before the second arrives (bounded: a refused first call fails here, not by hanging).
    for (let turn = 0; turn < 1_000 && h.handled.length === 0; turn++) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(h.handled.length, 1, 'the first call is running')
    h.handler = async () => ({ text: 'next' })
    const busy = await h.call({ principal: serial })
    assert.match(replyText(busy), /^\[RATE_LIMITED\] Too many calls; this one was refused and did nothing\. You have as many calls in flight as allowed; retry after 1 s\. /)
    assert.equal(h.events.at(-1)?.reason, 'CONCURRENT_CALLS')
    assert.deepEqual(
      h.metrics.filter((m) => 'rateLimited' in m),
      [{ rateLimited: 'concurrent_calls' }],
    )
    finishFirst()
    assert.equal(replyText(await first), 'first')
    assert.equal(replyText(await h.call({ principal: serial })), 'next', 'the place was freed')
  })

  const failures: [name: string, setUp: (h: ReturnType<typeof harness>) => void, request: Parameters<ReturnType<typeof harness>['call']>[0]][] = [
    ['the tool failed', (h) => { h.handler = async () => { throw new GuardError('COMMAND_NOT_ALLOWED', 'no') } }, {}],
    ['the arguments were invalid', () => {}, { rawArgs: { text: 5 } }],
    ['the outcome record failed', (h) => { h.failAudit = 'tools.call' }, {}],
    ['the period record failed', (h) => { h.failAudit = 'grant.activated' }, {}],
  ]
  for (const [name, setUp, request] of failures) {
    it(`frees the place of a call after ${name}`, async () => {
      const h = harness()
      const serial = principal(['serial'])
      setUp(h)
      const failed = await h.call({ principal: serial, ...request })
      assert.equal(failed.isError, true, 'the first call failed')
      h.failAudit = false
      h.handler = async () => ({ text: 'next' })
      assert.equal(replyText(await h.call({ principal: serial })), 'next', 'the next call is admitted')
    })
  }

  it('counts no rate limit for a refusal over the grant period or the sign-in', async () => {
    const h = harness({ withMetrics: true })
    await h.call()
    h.clock.advance(15 * 60_000)
    assert.match(replyText(await h.call()), /^\[GRANT_EXPIRED\] /)
    const { issuedAt: _issuedAt, ...noSignIn } = principal(['ops'], { subject: 'bob' })
    assert.match(replyText(await h.call({ principal: noSignIn })), /^\[SIGN_IN_REQUIRED\] /)
    assert.equal(h.metrics.filter((m) => 'rateLimited' in m).length, 0, 'no rate-limit count')
  })
})

describe('callTool: the record of a grant period', () => {
  it('runs a call admitted without a period (the built-in grant) and records no period', async () => {
    let released = 0
    const h = harness({ admit: () => async () => ({ ok: true, activation: undefined, started: false, renewed: false, release: async () => void released++ }) })
    assert.equal(replyText(await h.call()), 'echo hi')
    assert.equal(h.handled.length, 1, 'the tool ran')
    assert.equal(h.activated.length, 0, 'no period, no period record')
    assert.equal(released, 1, 'the place the call held is given back')
  })

  it('records the period a call starts, once, with the fields of the call', async () => {
    const h = harness()
    await h.call()
    h.clock.advance(60_000)
    await h.call()
    assert.equal(h.activated.length, 1, 'one period')
    const record = h.activated[0]
    assert.ok(record !== undefined, 'recorded')
    assert.deepEqual(record, {
      type: 'grant.activated',
      actor: { iss: 'https://idp.test', sub: 'alice', groups: ['ops'] },
      session: 'session-hash',
      tool: 'echo',
      correlationId: h.events[0]?.correlationId,
      policyFingerprint: h.policy.fingerprint,
      grantId: 'echo-ops',
      detail: { activatedAt: iso(NOW), expiresAt: iso(NOW + 15 * 60_000), signedInAt: iso(NOW - 60_000), source: 'sign-in', renewed: false },
    })
  })

  it('says when a period renews one that ended', async () => {
    const h = harness()
    await h.call()
    h.clock.advance(20 * 60_000)
    const fresh = principal(['ops'], { issuedAt: h.clock.now() / 1000 })
    assert.equal(replyText(await h.call({ principal: fresh })), 'echo hi')
    assert.equal(h.activated.length, 2, 'a second period')
    assert.equal(h.activated[1]?.detail?.renewed, true)
    assert.equal(h.activated[1]?.detail?.activatedAt, iso(NOW + 20 * 60_000))
  })

  it('does not run the tool when the period cannot be recorded, and logs why', async () => {
    const h = harness()
    h.failAudit = 'grant.activated'
    const result = await h.call()
    const id = correlationIn(result)
    assert.equal(replyText(result), `[AUDIT_UNAVAILABLE] The call could not be recorded in the audit trail, so its result is withheld. (correlation id ${id})`)
    assert.equal(h.handled.length, 0, 'the tool did not run')
    assert.deepEqual(
      h.logged.map((l) => ({ message: l.message, fields: l.fields })),
      [{ message: `audit write failed for the grant activation of call ${id}; the tool was not run`, fields: { correlationId: id } }],
    )
    const record = h.events[0]
    assert.ok(record !== undefined, 'the outcome is still recorded')
    assert.deepEqual(
      { type: record.type, decision: record.decision, grantId: record.grantId, outcome: record.outcome, code: record.code, reason: record.reason },
      { type: 'tools.call', decision: 'allow', grantId: 'echo-ops', outcome: 'error', code: 'AUDIT_UNAVAILABLE', reason: 'activation not recorded; the tool was not run' },
    )
  })

  it('writes the missed record before the next call under that period runs its tool, once', async () => {
    const h = harness()
    h.failAudit = 'grant.activated'
    await h.call()
    h.failAudit = false
    h.clock.advance(60_000)
    assert.equal(replyText(await h.call()), 'echo hi', 'the retry runs')
    assert.equal(h.handled.length, 1, 'only the retry ran the tool')
    assert.equal(h.activated.length, 1, 'the period was recorded by the retry')
    assert.deepEqual(h.activated[0]?.detail, { activatedAt: iso(NOW), expiresAt: iso(NOW + 15 * 60_000), signedInAt: iso(NOW - 60_000), source: 'sign-in', renewed: false, late: true })
    await h.call()
    assert.equal(h.activated.length, 1, 'a recorded period is not recorded again')
  })

  it('keeps refusing under an unrecorded period while the record cannot be written', async () => {
    const h = harness()
    h.failAudit = 'grant.activated'
    await h.call()
    h.clock.advance(60_000)
    const second = await h.call()
    assert.match(replyText(second), /^\[AUDIT_UNAVAILABLE\]/, 'the second call is refused too')
    assert.equal(h.handled.length, 0, 'no tool ran under a period without its record')
  })

  it('runs the call when only marking the record fails, and logs it', async () => {
    const h = harness()
    const mark = h.state.activations.markRecorded
    ;(h.state.activations as { markRecorded: typeof mark }).markRecorded = async () => {
      throw new Error('Redis down')
    }
    assert.equal(replyText(await h.call()), 'echo hi')
    assert.ok(
      h.logged.some((l) => l.message.includes('written but not marked')),
      `the failed mark is logged: ${JSON.stringify(h.logged.map((l) => l.message))}`,
    )
    ;(h.state.activations as { markRecorded: typeof mark }).markRecorded = mark
    await h.call()
    assert.equal(h.activated.length, 2, 'the unmarked period is recorded again by the next call (a duplicate, never a gap)')
  })
})
