import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError } from '../../src/errors.js'
import { CORRELATION_META_KEY } from '../../src/mcp/call-record.js'
import { correlationIn, harness, NOW, principal, replyText } from './support/call-harness.js'

// What reaches the caller and the audit from a tool: arguments that are not an object, output and
// error text through the grant's value detectors, and the caller's own grant periods.

const KEY = 'AKIAIOSFODNN7EXAMPLE'
const MAIL = 'ada@example.com'

describe('callTool: arguments that are not an object', () => {
  const cases: [kind: string, rawArgs: unknown][] = [
    ['array', [{ text: 'hi' }]],
    ['null', null],
    ['string', '{"text":"hi"}'],
    ['number', 7],
  ]
  for (const [kind, rawArgs] of cases) {
    it(`refuses ${kind} before any policy decision, without running a tool`, async () => {
      const h = harness()
      // No grant and an unknown tool: the malformed request is refused as such all the same.
      const result = await h.call({ rawArgs, name: 'nothing', principal: principal(['nobody']) })
      const id = correlationIn(result)
      assert.equal(replyText(result), `[INPUT_INVALID] The tool arguments are invalid. (arguments): expected an object, received ${kind} (correlation id ${id})`)
      assert.equal(result.isError, true, 'an error result')
      assert.equal(h.handled.length, 0, 'nothing ran')
      assert.equal(h.activated.length, 0, 'no period started')
      const record = h.events[0]
      assert.ok(record !== undefined, 'recorded')
      assert.deepEqual(
        { decision: record.decision, outcome: record.outcome, code: record.code, reason: record.reason, correlationId: record.correlationId },
        { decision: 'deny', outcome: 'denied', code: 'INPUT_INVALID', reason: `(arguments): expected an object, received ${kind}`, correlationId: id },
      )
      assert.equal('grantId' in record, false, 'no grant decided')
      assert.equal('connection' in record, false, 'no connection read from it')
    })
  }

  it('refuses them even for a caller and tool that would be allowed, and samples the records', async () => {
    const h = harness()
    assert.match(replyText(await h.call({ rawArgs: ['hi'] })), /^\[INPUT_INVALID\] .*received array/)
    await h.call({ rawArgs: 'hi' })
    assert.equal(h.handled.length, 0, 'nothing ran')
    assert.equal(h.events.length, 1, 'the second refusal is counted, not written')
  })
})

describe('callTool: output through the value detectors', () => {
  it('redacts the text and structured output of a tool with a connection, and records names and counts', async () => {
    const h = harness()
    h.handler = async () => ({ text: `key ${KEY} for ${MAIL}`, structured: { rows: [{ owner: MAIL, note: 'plain' }] }, audit: { rows: 1 } })
    const result = await h.call({ name: 'db_echo', rawArgs: { connection: 'orders-db', text: 'q' } })
    assert.equal(replyText(result), 'key [redacted:aws-access-key-id] for [redacted:email]')
    assert.deepEqual(result.structuredContent, { rows: [{ owner: '[redacted:email]', note: 'plain' }] })
    const outcome = h.events.at(-1)
    assert.deepEqual(outcome?.detail, { rows: 1, outputRedaction: { detectors: ['awsKeys', 'emails'], redactedStrings: 2 } })
  })

  it('records a single redacted string, and no redaction when nothing matched', async () => {
    const h = harness()
    h.handler = async () => ({ text: `only ${MAIL}` })
    await h.call({ name: 'db_echo', rawArgs: { connection: 'orders-db', text: 'q' } })
    assert.deepEqual(h.events.at(-1)?.detail, { outputRedaction: { detectors: ['emails'], redactedStrings: 1 } })
    h.handler = async () => ({ text: 'nothing to hide' })
    const clean = await h.call({ name: 'db_echo', rawArgs: { connection: 'orders-db', text: 'q' } })
    assert.equal(replyText(clean), 'nothing to hide')
    assert.equal('detail' in (h.events.at(-1) ?? {}), false, 'no detail without redaction or tool audit')
  })

  it('leaves the output of a tool without a connection as it is (it echoes the caller and the policy)', async () => {
    const h = harness()
    h.handler = async () => ({ text: `you are ${MAIL}`, structured: { email: MAIL } })
    const result = await h.call()
    assert.equal(replyText(result), `you are ${MAIL}`)
    assert.deepEqual(result.structuredContent, { email: MAIL })
    assert.equal('detail' in (h.events[0] ?? {}), false, 'no redaction recorded')
  })

  it("keeps what the grant's detectors turn off, and redacts the rest", async () => {
    const h = harness()
    h.handler = async () => ({ text: `${MAIL} ${KEY}` })
    const result = await h.call({ principal: principal(['analysts']), name: 'db_echo', rawArgs: { connection: 'orders-db', text: 'q' } })
    assert.equal(replyText(result), `${MAIL} [redacted:aws-access-key-id]`)
  })

  it('lets a tool turn a detector off for its output under the grant it is given', async () => {
    const h = harness()
    h.handler = async () => ({ text: `${MAIL} ${KEY}` })
    const underDbOps = await h.call({ name: 'db_names', rawArgs: { connection: 'orders-db', text: 'q' } })
    assert.equal(replyText(underDbOps), `${MAIL} [redacted:aws-access-key-id]`, 'the tool turns emails off under db-ops')
    const underReaders = await h.call({ principal: principal(['readers']), name: 'db_names', rawArgs: { connection: 'orders-db', text: 'q' } })
    assert.equal(replyText(underReaders), '[redacted:email] [redacted:aws-access-key-id]', 'but not under db-readers')
  })

  it('redacts the error text of a tool with a connection (database messages quote data), not of one without', async () => {
    const h = harness()
    h.handler = async () => {
      throw new GuardError('SQL_NOT_READ_ONLY', `row ${MAIL}`)
    }
    const db = await h.call({ name: 'db_echo', rawArgs: { connection: 'orders-db', text: 'q' } })
    assert.match(replyText(db), /^\[SQL_NOT_READ_ONLY\] .* row \[redacted:email\] \(correlation id [0-9a-f]{12}\)$/)
    assert.ok(!replyText(db).includes(MAIL), 'no address in the reply')
    const plain = await h.call()
    assert.match(replyText(plain), new RegExp(`row ${MAIL.replace('.', '\\.')} \\(correlation id`))
  })

  it('names the correlation id in the result of every call', async () => {
    const h = harness()
    const ok = await h.call()
    assert.deepEqual(ok._meta, { [CORRELATION_META_KEY]: h.events[0]?.correlationId })
    const denied = await h.call({ principal: principal(['nobody']) })
    assert.deepEqual(denied._meta, { [CORRELATION_META_KEY]: correlationIn(denied) })
  })
})

describe("callTool: the caller's own grant periods, for tools that show them", () => {
  it('finds the periods of this caller by grant id, and nothing for grants without one', async () => {
    const h = harness()
    let seen: ReadonlyMap<string, unknown> | undefined
    h.handler = async (ctx) => {
      seen = await ctx.activations(['db-ops', 'echo-ops', 'approval'])
      return { text: 'ok' }
    }
    await h.call()
    assert.ok(seen !== undefined, 'the tool looked')
    assert.deepEqual([...seen.keys()], ['echo-ops'])
    assert.deepEqual(seen.get('echo-ops'), { activatedAt: NOW, expiresAt: NOW + 15 * 60_000, signedInAt: NOW - 60_000, source: 'sign-in', recorded: true })
  })

  it("does not show another subject's or another issuer's periods", async () => {
    const h = harness()
    await h.call()
    const periods: [string, number][][] = []
    h.handler = async (ctx) => {
      const found = await ctx.activations(['echo-ops'])
      periods.push([...found.entries()].map(([id, a]) => [id, a.activatedAt]))
      return { text: 'ok' }
    }
    h.clock.advance(1_000)
    await h.call({ principal: principal(['ops'], { subject: 'bob' }) })
    h.clock.advance(1_000)
    await h.call({ principal: principal(['ops'], { issuer: 'https://other.test' }) })
    assert.deepEqual(periods, [[['echo-ops', NOW + 1_000]], [['echo-ops', NOW + 2_000]]], 'each sees only the period their own call started, not alice’s from NOW')
  })
})
