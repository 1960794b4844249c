import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError, UpstreamError } from '../../src/errors.js'
import { CORRELATION_META_KEY } from '../../src/mcp/call-record.js'
import type { CallRequest } from '../../src/mcp/call-tool.js'
import { hashArgs } from '../../src/mcp/hash-args.js'
import { CORRELATION, harness, principal, replyText } from './support/call-harness.js'

// The tools/call pipeline without HTTP: what is decided, recorded and answered for each path,
// and what the tool is (and is not) given.

function correlationOf(result: { content: { text: string }[] }): string {
  const match = CORRELATION.exec(replyText(result))
  assert.ok(match !== null, `no correlation id in ${replyText(result)}`)
  return match[1] ?? ''
}

describe('callTool: allowed calls', () => {
  it('runs the tool with the caller, grant, policy, args without connection, and records the outcome', async () => {
    const h = harness()
    const signal = new AbortController().signal
    const progress = async () => undefined
    h.handler = async (ctx) => {
      h.clock.advance(250)
      return { text: `echo ${String(ctx.args.text)}`, structured: { said: ctx.args.text }, audit: { rows: 1 } }
    }
    const result = await h.call({ signal, progress, principal: principal(['ops'], { email: 'alice@example.com' }) })
    assert.deepEqual(result, { content: [{ type: 'text', text: 'echo hi' }], structuredContent: { said: 'hi' }, _meta: { [CORRELATION_META_KEY]: h.events[0]?.correlationId } })
    assert.equal(h.handled.length, 1)
    const ctx = h.handled[0]
    assert.ok(ctx !== undefined, 'the handler ran')
    assert.equal(ctx.principal.subject, 'alice')
    assert.equal(ctx.grant.id, 'echo-ops')
    assert.ok(h.policy.grants.includes(ctx.grant), 'the grant comes from the request policy')
    assert.equal(ctx.policy, h.policy)
    assert.equal(ctx.connection, undefined)
    assert.deepEqual(ctx.args, { text: 'hi' })
    assert.equal(ctx.deps, h.deps)
    assert.equal(ctx.signal, signal)
    assert.equal(ctx.progress, progress)
    assert.equal(h.events.length, 1, 'a tool without connections writes no intent record')
    const record = h.events[0]
    assert.ok(record !== undefined, 'one record')
    const { correlationId, ...rest } = record
    assert.match(correlationId ?? '', /^[0-9a-f]{12}$/)
    assert.deepEqual(rest, {
      type: 'tools.call',
      actor: { iss: 'https://idp.test', sub: 'alice', groups: ['ops'], email: 'alice@example.com' },
      session: 'session-hash',
      tool: 'echo',
      policyFingerprint: h.policy.fingerprint,
      decision: 'allow',
      grantId: 'echo-ops',
      outcome: 'ok',
      argsHash: hashArgs({ text: 'hi' }),
      args: { text: '[redacted-by-test]' },
      detail: { rows: 1 },
      durationMs: 250,
      // 'echo hi': the text the caller read.
      resultBytes: 7,
    })
  })

  it('omits email, session, structured content and detail when there are none', async () => {
    const h = harness()
    const result = await h.call({ session: { idHash: undefined } })
    assert.deepEqual(result, { content: [{ type: 'text', text: 'echo hi' }], _meta: { [CORRELATION_META_KEY]: h.events[0]?.correlationId } })
    const record = h.events[0]
    assert.ok(record !== undefined, 'one record')
    assert.deepEqual(record.actor, { iss: 'https://idp.test', sub: 'alice', groups: ['ops'] })
    assert.equal('session' in record, false)
    assert.equal('detail' in record, false)
    assert.equal('connection' in record, false)
    assert.equal(record.durationMs, 0)
  })

  it('writes and flushes the intent before a tool with a connection runs, then the outcome', async () => {
    const h = harness()
    h.handler = async (ctx) => {
      assert.equal(h.events.length, 1, 'the intent is recorded before the tool runs')
      return { text: `db ${String(ctx.args.text)}` }
    }
    const result = await h.call({ name: 'db_echo', rawArgs: { connection: 'orders-db', text: 'q' } })
    assert.equal(replyText(result), 'db q')
    const ctx = h.handled[0]
    assert.ok(ctx !== undefined, 'the handler ran')
    assert.deepEqual(ctx.args, { text: 'q' }, 'the connection is not an argument of the tool')
    assert.equal(ctx.connection?.id, 'orders-db')
    assert.equal(ctx.grant.id, 'db-ops')
    const [intent, outcome] = h.events
    assert.ok(intent !== undefined && outcome !== undefined, 'two records')
    const argsHash = hashArgs({ connection: 'orders-db', text: 'q' })
    assert.deepEqual(intent, {
      type: 'tools.intent',
      actor: { iss: 'https://idp.test', sub: 'alice', groups: ['ops'] },
      session: 'session-hash',
      tool: 'db_echo',
      correlationId: outcome.correlationId,
      policyFingerprint: h.policy.fingerprint,
      connection: 'orders-db',
      grantId: 'db-ops',
      argsHash,
    })
    assert.equal(outcome.type, 'tools.call')
    assert.equal(outcome.argsHash, argsHash)
    assert.equal(outcome.connection, 'orders-db')
    assert.deepEqual(outcome.args, { text: '[redacted-by-test]' })
    assert.equal(outcome.outcome, 'ok')
  })

  it('starts the grant period at the first call and runs one millisecond before it ends', async () => {
    const h = harness()
    assert.equal(replyText(await h.call()), 'echo hi')
    h.clock.advance(15 * 60_000 - 1)
    assert.equal(replyText(await h.call()), 'echo hi')
    assert.equal(h.handled.length, 2)
    assert.equal(h.activated.length, 1, 'one period, started by the first call')
  })

  it("never lets a period outlive the grant's notAfter", async () => {
    const h = harness()
    assert.equal(replyText(await h.call({ principal: principal(['temps']) })), 'echo hi')
    h.clock.advance(30_000)
    const result = await h.call({ principal: principal(['temps']) })
    assert.equal(result.isError, true, 'past notAfter')
  })
})

describe('callTool: refusals', () => {
  it('refuses once the grant period has ended, without running the tool, until a fresh sign-in', async () => {
    const h = harness()
    await h.call()
    h.clock.advance(15 * 60_000)
    const result = await h.call()
    assert.equal(result.isError, true)
    const id = correlationOf(result)
    assert.match(replyText(result), /^\[GRANT_EXPIRED\] /)
    assert.equal(h.handled.length, 1, 'only the first call ran')
    const record = h.events.at(-1)
    assert.ok(record !== undefined, 'recorded')
    assert.deepEqual(
      { decision: record.decision, outcome: record.outcome, code: record.code, grantId: record.grantId, correlationId: record.correlationId },
      { decision: 'deny', outcome: 'denied', code: 'GRANT_EXPIRED', grantId: 'echo-ops', correlationId: id },
    )
    const renewed = await h.call({ principal: principal(['ops'], { issuedAt: h.clock.now() / 1000 + 1 }) })
    assert.equal(replyText(renewed), 'echo hi', 'a sign-in after the end starts a new period')
  })

  const denials: [name: string, request: Partial<CallRequest>, code: string, reason: string, grantId: string | undefined, text: RegExp][] = [
    ['no grant', { principal: principal(['nobody']) }, 'POLICY_DENIED', 'NO_GRANT', undefined, /^\[POLICY_DENIED\] Access denied by policy\. You have no grant for tool echo\. \(correlation id [0-9a-f]{12}\)$/],
    ['approval needed', { principal: principal(['leads']) }, 'APPROVAL_REQUIRED', 'APPROVAL_REQUIRED', 'approval', /^\[APPROVAL_REQUIRED\] This access requires human approval, which has not been granted\. Tool echo needs approval under grant "approval"/],
    ['grant expired', { principal: principal(['former']) }, 'POLICY_DENIED', 'GRANT_EXPIRED', 'gone', /^\[POLICY_DENIED\] Access denied by policy\. Your grant "gone" for echo has expired\./],
    ['connection not granted', { name: 'db_echo', rawArgs: { connection: 'other-db', text: 'x' } }, 'POLICY_DENIED', 'CONNECTION_NOT_GRANTED', undefined, /is unknown or not granted to you for db_echo/],
    ['connection on a tool without one', { rawArgs: { connection: 'orders-db', text: 'x' } }, 'POLICY_DENIED', 'CONNECTION_NOT_EXPECTED', undefined, /Tool echo takes no connection\./],
    ['unknown tool name someone holds a grant for', { name: 'ghost' }, 'UNKNOWN_TOOL', 'UNKNOWN_TOOL', undefined, /^\[UNKNOWN_TOOL\] There is no such tool\. "ghost" is not one of the tools tools\/list shows you\. \(correlation id/],
    ['unknown tool name without a grant', { name: 'nothing' }, 'POLICY_DENIED', 'NO_GRANT', undefined, /^\[POLICY_DENIED\] Access denied by policy\. You have no grant for tool nothing\./],
  ]
  for (const [name, request, code, reason, grantId, text] of denials) {
    it(`denies: ${name}`, async () => {
      const h = harness()
      const result = await h.call(request)
      assert.equal(result.isError, true)
      assert.match(replyText(result), text)
      assert.equal(h.handled.length, 0)
      const record = h.events[0]
      assert.ok(record !== undefined, 'recorded')
      assert.equal(record.type, 'tools.call')
      assert.equal(record.decision, 'deny')
      assert.equal(record.outcome, 'denied')
      assert.equal(record.code, code)
      assert.equal(record.reason, reason)
      assert.equal(record.grantId, grantId)
      assert.equal('grantId' in record, grantId !== undefined)
      assert.equal(record.correlationId, correlationOf(result))
      assert.equal(record.tool, request.name ?? 'echo')
    })
  }

  it('samples denials per identity: a second one in the window is counted, not written', async () => {
    const h = harness()
    const nobody = principal(['nobody'])
    await h.call({ principal: nobody })
    await h.call({ principal: nobody })
    assert.equal(h.events.length, 1)
    await h.call({ principal: { ...nobody, subject: 'bob' } })
    assert.equal(h.events.length, 2)
  })

  it('caps a hostile tool name in the record and the reply', async () => {
    const h = harness()
    const name = `x\u202e${'y'.repeat(300)}`
    const result = await h.call({ name, principal: principal(['nobody']) })
    const record = h.events[0]
    assert.ok(record !== undefined, 'recorded')
    assert.ok((record.tool ?? '').length < 200, `tool capped: ${record.tool?.length}`)
    assert.match(record.tool ?? '', /^x\uFFFDy+…\[altered: 302 chars, sha256 [0-9a-f]{16}\]$/)
    assert.ok(!replyText(result).includes('\u202e'), 'no bidi override in the reply')
  })

  it('caps a hostile connection name in the record', async () => {
    const h = harness()
    await h.call({ name: 'db_echo', rawArgs: { connection: `c${'z'.repeat(200)}`, text: 'x' } })
    const record = h.events[0]
    assert.match(record?.connection ?? '', /^cz+…\[altered: 201 chars, sha256 [0-9a-f]{16}\]$/)
  })

  it('records no connection when the one given is not a string', async () => {
    const h = harness()
    const result = await h.call({ name: 'db_echo', rawArgs: { connection: 7, text: 'x' } })
    assert.equal(result.isError, true)
    const record = h.events[0]
    assert.ok(record !== undefined, 'recorded')
    assert.equal('connection' in record, false)
    assert.equal(record.reason, 'CONNECTION_REQUIRED')
  })
})

describe('callTool: invalid arguments', () => {
  const cases: [name: string, rawArgs: Record<string, unknown> | undefined, reason: RegExp][] = [
    ['missing field', {}, /^text: /],
    ['no arguments at all', undefined, /^text: /],
    ['wrong type', { text: 5 }, /^text: /],
    ['too long', { text: 'a'.repeat(21) }, /^text: .*20/],
    ['unknown field', { text: 'a', other: 1 }, /^\(arguments\): /],
  ]
  for (const [name, rawArgs, reason] of cases) {
    it(`refuses ${name} without running the tool`, async () => {
      const h = harness()
      const result = await h.call({ rawArgs })
      assert.equal(result.isError, true)
      assert.match(replyText(result), /^\[INPUT_INVALID\] The tool arguments are invalid\. /)
      assert.equal(h.handled.length, 0)
      const record = h.events[0]
      assert.ok(record !== undefined, 'recorded')
      assert.equal(record.decision, 'allow')
      assert.equal(record.grantId, 'echo-ops')
      assert.equal(record.outcome, 'error')
      assert.equal(record.code, 'INPUT_INVALID')
      assert.match(record.reason ?? '', reason)
    })
  }
  it('joins nested paths with dots', async () => {
    const h = harness()
    await h.call({ rawArgs: { text: 7, opts: { depth: 'x' } } })
    assert.match(h.events[0]?.reason ?? '', /^text: [^;]+; opts\.depth: [^;]+$/)
  })
})

describe('callTool: tool failures', () => {
  it('maps a guard error to its code and text, records its message, and logs nothing', async () => {
    const h = harness()
    h.handler = async () => {
      throw new GuardError('SQL_NOT_READ_ONLY', 'not read-only: DeleteStmt')
    }
    const result = await h.call()
    const id = correlationOf(result)
    assert.equal(replyText(result), `[SQL_NOT_READ_ONLY] This connection is read-only for you. not read-only: DeleteStmt (correlation id ${id})`)
    assert.equal(result.isError, true)
    assert.equal(h.logged.length, 0)
    const record = h.events[0]
    assert.ok(record !== undefined, 'recorded')
    assert.deepEqual(
      { decision: record.decision, grantId: record.grantId, outcome: record.outcome, code: record.code, reason: record.reason, args: record.args, argsHash: record.argsHash },
      { decision: 'allow', grantId: 'echo-ops', outcome: 'error', code: 'SQL_NOT_READ_ONLY', reason: 'not read-only: DeleteStmt', args: { text: '[redacted-by-test]' }, argsHash: hashArgs({ text: 'hi' }) },
    )
  })

  it('shows only the public detail of an upstream error', async () => {
    const h = harness()
    h.handler = async () => {
      throw new UpstreamError('AWS_DENIED', 'AccessDenied: arn:aws:iam::111122223333:role/secret', { publicDetail: 'ssm:SendCommand' })
    }
    const result = await h.call()
    assert.match(replyText(result), /^\[AWS_DENIED\] The gateway is not permitted to perform this AWS operation\. ssm:SendCommand \(correlation id/)
    assert.ok(!replyText(result).includes('111122223333'), 'no raw AWS error in the reply')
    assert.equal(h.events[0]?.reason, 'AccessDenied: arn:aws:iam::111122223333:role/secret')
    assert.equal(h.logged.length, 0)
  })

  it('answers INTERNAL for a bug, logs it for operators, and records its message', async () => {
    const h = harness()
    const bug = new TypeError('undefined is not a function')
    h.handler = async () => {
      throw bug
    }
    const result = await h.call()
    const id = correlationOf(result)
    assert.equal(replyText(result), `[INTERNAL] The gateway failed to complete the call. (correlation id ${id})`)
    assert.equal(h.logged.length, 1)
    assert.equal(h.logged[0]?.message, `tool echo failed (correlation id ${id})`)
    assert.equal(h.logged[0]?.error, bug)
    assert.deepEqual(h.logged[0]?.fields, { correlationId: id }, 'the log line carries the id as a field')
    assert.equal(h.events[0]?.reason, 'undefined is not a function')
    assert.equal(h.events[0]?.code, 'INTERNAL')
  })

  it('records a thrown non-error as text', async () => {
    const h = harness()
    h.handler = async () => {
      throw 'plain string'
    }
    const result = await h.call()
    assert.match(replyText(result), /^\[INTERNAL\] /)
    assert.equal(h.events[0]?.reason, 'plain string')
  })

  it('caps a long error message in the record', async () => {
    const h = harness()
    h.handler = async () => {
      throw new GuardError('COMMAND_NOT_ALLOWED', 'm'.repeat(2000))
    }
    await h.call()
    assert.match(h.events[0]?.reason ?? '', /^m{512}…\[altered: 2000 chars, sha256 [0-9a-f]{16}\]$/)
  })

  it('caps large arguments and audit detail in the record', async () => {
    const h = harness()
    h.handler = async () => ({ text: 'ok', audit: { blob: 'd'.repeat(10_000) } })
    await h.call({ rawArgs: { text: 'hi', extra: 'e'.repeat(10_000) } })
    const record = h.events[0]
    assert.ok(record !== undefined, 'recorded')
    assert.match(String(record.args?.extra), /^\[omitted: 10002 bytes, sha256 [0-9a-f]{16}\]$/)
    assert.match(String(record.detail?.blob), /^\[omitted: 10002 bytes, sha256 [0-9a-f]{16}\]$/)
  })
})

describe('callTool: no result without its record', () => {
  it('withholds the result when the outcome record fails, and logs why', async () => {
    const h = harness()
    h.failAudit = 'tools.call'
    const result = await h.call()
    const id = correlationOf(result)
    assert.deepEqual(result, {
      content: [{ type: 'text', text: `[AUDIT_UNAVAILABLE] The call could not be recorded in the audit trail, so its result is withheld. (correlation id ${id})` }],
      isError: true,
      _meta: { [CORRELATION_META_KEY]: id },
    })
    assert.equal(h.handled.length, 1)
    assert.equal(h.logged[0]?.message, `audit write failed for call ${id}`)
    assert.match(String(h.logged[0]?.error), /disk full/)
  })

  it('withholds a denial when its record fails', async () => {
    const h = harness()
    h.failAudit = true
    const result = await h.call({ principal: principal(['nobody']) })
    assert.match(replyText(result), /^\[AUDIT_UNAVAILABLE\] /)
    assert.equal(h.logged.length, 1)
  })

  it('does not run a tool whose intent could not be recorded', async () => {
    const h = harness()
    h.failAudit = 'tools.intent'
    const result = await h.call({ name: 'db_echo', rawArgs: { connection: 'orders-db', text: 'q' } })
    const id = correlationOf(result)
    assert.match(replyText(result), /^\[AUDIT_UNAVAILABLE\] The call could not be recorded in the audit trail/)
    assert.equal(h.handled.length, 0, 'the tool did not run')
    assert.equal(h.logged[0]?.message, `audit write failed for the intent of call ${id}; the tool was not run`)
    assert.deepEqual(h.logged[0]?.fields, { correlationId: id }, 'the log line carries the id as a field')
    const record = h.events[0]
    assert.ok(record !== undefined, 'the outcome is still recorded')
    assert.deepEqual(
      { type: record.type, decision: record.decision, grantId: record.grantId, outcome: record.outcome, code: record.code, reason: record.reason, argsHash: record.argsHash, args: record.args },
      {
        type: 'tools.call',
        decision: 'allow',
        grantId: 'db-ops',
        outcome: 'error',
        code: 'AUDIT_UNAVAILABLE',
        reason: 'intent not recorded; the tool was not run',
        argsHash: hashArgs({ connection: 'orders-db', text: 'q' }),
        args: { text: '[redacted-by-test]' },
      },
    )
  })

  it('gives every call its own correlation id', async () => {
    const h = harness()
    const ids = new Set<string>()
    for (let i = 0; i < 5; i++) ids.add(correlationOf(await h.call({ principal: principal(['nobody'], { subject: `s${i}` }) })))
    assert.equal(ids.size, 5)
  })
})
