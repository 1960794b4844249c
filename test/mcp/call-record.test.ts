import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AuditActor, AuditEvent } from '../../src/audit/audit-event.js'
import { createManualClock } from '../../src/clock.js'
import { CORRELATION_META_KEY, errorResult, startCallRecord, type CallLogEntry, type CallRecordStart, type CallResult } from '../../src/mcp/call-record.js'
import { noopMetrics, type ToolCallOutcome } from '../../src/metrics/gateway-metrics.js'

// How one call ends: its record written (or sampled), then counted and logged for operators, and
// its result withheld when the record cannot be written.

const T0 = Date.parse('2026-11-29T12:00:00Z')
const OK: CallResult = { content: [{ type: 'text', text: 'done' }] }

interface Recorded {
  readonly written: AuditEvent[]
  readonly sampled: { actor: AuditActor; event: AuditEvent }[]
  readonly toolCalls: [tool: string, outcome: ToolCallOutcome, durationMs: number][]
  readonly lines: CallLogEntry[]
  readonly logged: { message: string; fields: Record<string, unknown> | undefined }[]
  readonly clock: ReturnType<typeof createManualClock>
  fail: boolean
}

function recorder(start: Partial<CallRecordStart> = {}, withCallLog = true) {
  const r: Recorded = { written: [], sampled: [], toolCalls: [], lines: [], logged: [], clock: createManualClock(T0 + 40), fail: false }
  const record = startCallRecord(
    {
      audit: {
        async write(event) {
          if (r.fail) throw new Error('disk full')
          r.written.push(event)
        },
      },
      denials: {
        async denial(actor, event) {
          if (r.fail) throw new Error('disk full')
          r.sampled.push({ actor, event })
          return true
        },
      },
      clock: r.clock,
      metrics: { ...noopMetrics, toolCall: (tool, outcome, durationMs) => r.toolCalls.push([tool, outcome, durationMs]) },
      logError: (message, _error, fields) => r.logged.push({ message, fields }),
      ...(withCallLog ? { logCall: (entry: CallLogEntry) => r.lines.push(entry) } : {}),
    },
    {
      correlationId: 'c0ffee000001',
      started: T0,
      principal: { issuer: 'https://idp.test', subject: 'alice', groups: ['ops'], expiresAt: T0 / 1000 + 60 },
      sessionIdHash: undefined,
      name: 'sql_query',
      catalogName: 'sql_query',
      policyFingerprint: 'fp',
      connection: undefined,
      ...start,
    },
  )
  return { r, record }
}

describe('startCallRecord', () => {
  it('writes the outcome, then counts it under the catalog name and logs one line with the duration', async () => {
    const { r, record } = recorder()
    const result = await record.finish({ decision: 'allow', grantId: 'g1', outcome: 'ok' }, OK)
    assert.equal(result, OK)
    assert.deepEqual(r.written, [
      { type: 'tools.call', actor: { iss: 'https://idp.test', sub: 'alice', groups: ['ops'] }, tool: 'sql_query', correlationId: 'c0ffee000001', policyFingerprint: 'fp', decision: 'allow', grantId: 'g1', outcome: 'ok', durationMs: 40, resultBytes: 4 },
    ])
    assert.deepEqual(r.toolCalls, [['sql_query', 'ok', 40]])
    assert.deepEqual(r.lines, [{ correlationId: 'c0ffee000001', tool: 'sql_query', outcome: 'ok', durationMs: 40, grantId: 'g1' }])
  })

  it('records resultBytes as the UTF-8 bytes of every text item, not of the serialised result', async () => {
    const { r, record } = recorder()
    const big = { rows: Array.from({ length: 50 }, (_, i) => ({ id: i, note: 'x'.repeat(40) })) }
    const result: CallResult = { content: [{ type: 'text', text: 'é' }, { type: 'text', text: '日本' }], structuredContent: big }
    await record.finish({ decision: 'allow', grantId: 'g1', outcome: 'ok' }, result)
    // 'é' is 2 bytes and '日本' 6: the structured rows the text already carries are not counted again.
    assert.equal(r.written[0]?.resultBytes, 8)
  })

  it('counts a name the catalog does not hold as unknown, never as the caller wrote it', async () => {
    const { r, record } = recorder({ name: 'made_up', catalogName: undefined })
    await record.finish({ decision: 'deny', outcome: 'denied', code: 'POLICY_DENIED' }, OK, true)
    assert.deepEqual(r.toolCalls, [['unknown', 'denied', 40]])
    assert.deepEqual(r.lines, [{ correlationId: 'c0ffee000001', tool: 'unknown', outcome: 'denied', durationMs: 40, code: 'POLICY_DENIED' }])
    assert.equal(r.sampled[0]?.event.tool, 'made_up', 'the record keeps the name asked for')
  })

  it('sends a sampled outcome through the denial sampling, with the actor, and writes nothing itself', async () => {
    const { r, record } = recorder({ principal: { issuer: 'https://idp.test', subject: 'bob', groups: [], email: 'bob@example.com', expiresAt: T0 / 1000 + 60 } })
    await record.finish({ decision: 'deny', outcome: 'denied' }, OK, true)
    assert.equal(r.written.length, 0, 'not written directly')
    assert.deepEqual(r.sampled[0]?.actor, { iss: 'https://idp.test', sub: 'bob', groups: [], email: 'bob@example.com' })
    assert.equal(r.sampled[0]?.event.actor, r.sampled[0]?.actor)
  })

  it('counts an outcome it was not told as an error', async () => {
    const { r, record } = recorder()
    await record.finish({ decision: 'allow' }, OK)
    assert.deepEqual(r.toolCalls, [['sql_query', 'error', 40]])
    assert.equal(r.lines[0]?.outcome, 'error')
  })

  it('withholds the result when the record fails: AUDIT_UNAVAILABLE, counted as an error with the grant, and logged', async () => {
    for (const sampled of [false, true]) {
      const { r, record } = recorder()
      r.fail = true
      const result = await record.finish({ decision: 'allow', grantId: 'g1', outcome: 'ok', code: 'X' }, OK, sampled)
      assert.deepEqual(result, errorResult('AUDIT_UNAVAILABLE', 'The call could not be recorded in the audit trail, so its result is withheld.', 'c0ffee000001'))
      assert.deepEqual(r.toolCalls, [['sql_query', 'error', 40]], `counted (sampled: ${sampled})`)
      assert.deepEqual(r.lines, [{ correlationId: 'c0ffee000001', tool: 'sql_query', outcome: 'error', durationMs: 40, code: 'AUDIT_UNAVAILABLE', grantId: 'g1' }])
      assert.deepEqual(r.logged, [{ message: 'audit write failed for call c0ffee000001', fields: { correlationId: 'c0ffee000001' } }])
    }
  })

  it('works without a call log', async () => {
    const { r, record } = recorder({}, false)
    assert.equal(await record.finish({ decision: 'allow', outcome: 'ok' }, OK), OK)
    assert.equal(r.toolCalls.length, 1, 'still counted')
  })

  it('caps the name and connection the caller sent in the fields every record carries, and keeps the session hash', () => {
    const { record } = recorder({ name: 'n'.repeat(300), connection: 'c'.repeat(300), sessionIdHash: 'h' })
    assert.match(record.base.tool, /^n+…\[altered: 300 chars, sha256 [0-9a-f]{16}\]$/)
    assert.match(record.base.connection ?? '', /^c+…\[altered: 300 chars, sha256 [0-9a-f]{16}\]$/)
    assert.equal(record.base.session, 'h')
  })
})

describe('errorResult', () => {
  it('is an error with its code, text and correlation id, and the id in _meta', () => {
    assert.deepEqual(errorResult('RATE_LIMITED', 'Slow down.', 'abc'), {
      content: [{ type: 'text', text: '[RATE_LIMITED] Slow down. (correlation id abc)' }],
      isError: true,
      _meta: { 'dev.airlock/correlationId': 'abc' },
    })
  })

  it('names the id under the _meta key clients read (a published name: changing it breaks them)', () => {
    assert.equal(CORRELATION_META_KEY, 'dev.airlock/correlationId')
  })
})
