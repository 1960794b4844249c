import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { describe, it } from 'node:test'
import { cancelOnShutdown, SHUTDOWN_CANCEL_DETAIL } from '../../src/cli/cancel-on-shutdown.js'
import { UpstreamError } from '../../src/errors.js'
import { callerError } from '../../src/mcp/tool-error-text.js'
import type { AnyToolContext, AnyToolDefinition, ToolResult } from '../../tools/define-tool.js'

/** A tool whose call never ends and ignores its signal, like one stuck on a hung AWS request. */
function stuckTool(calls: { count: number }): AnyToolDefinition {
  return {
    name: 'stuck',
    title: 'Stuck',
    description: 'never answers',
    connectionKinds: [],
    input: {},
    annotations: () => ({ readOnlyHint: true, destructiveHint: false }),
    handler: () => {
      calls.count += 1
      return new Promise<ToolResult>(() => undefined)
    },
  }
}

const ctx = {} as AnyToolContext // the stuck tool reads nothing from its context

describe('cancelOnShutdown', () => {
  it('ends a call that ignores its own signal with CANCELLED when shutdown aborts, and tracks it', async () => {
    const calls = { count: 0 }
    const shutdown = new AbortController()
    const tracked: Promise<unknown>[] = []
    const [tool] = cancelOnShutdown([stuckTool(calls)], shutdown.signal, (work) => {
      tracked.push(work)
      return work
    })
    assert.ok(tool !== undefined, 'expected: tool !== undefined')
    assert.equal(tool.name, 'stuck')
    assert.deepEqual(tool.annotations({} as never), { readOnlyHint: true, destructiveHint: false })
    const call = tool.handler(ctx)
    assert.equal(tracked.length, 1)
    shutdown.abort()
    const error = await call.then(() => assert.fail('expected CANCELLED'), (rejection: unknown) => rejection)
    assert.ok(error instanceof UpstreamError, 'expected: error instanceof UpstreamError')
    assert.equal(error.code, 'CANCELLED')
    const shown = callerError(error)
    assert.equal(shown.code, 'CANCELLED')
    assert.ok(shown.text.endsWith(SHUTDOWN_CANCEL_DETAIL), shown.text)
    assert.match(shown.text, /^The call was cancelled\. The gateway is shutting down/)

    // After the deadline a call is refused without running the tool at all.
    await assert.rejects(tool.handler(ctx), (rejection: unknown) => rejection instanceof UpstreamError && rejection.code === 'CANCELLED')
    assert.equal(calls.count, 1)
  })

  it('passes results and errors through untouched while not shutting down', async () => {
    const shutdown = new AbortController()
    const ok: AnyToolDefinition = { ...stuckTool({ count: 0 }), handler: async () => ({ text: 'done' }) }
    const failing: AnyToolDefinition = { ...stuckTool({ count: 0 }), handler: async () => Promise.reject(new UpstreamError('AWS_THROTTLED', 'slow down')) }
    const [wrappedOk, wrappedFailing] = cancelOnShutdown([ok, failing], shutdown.signal, (work) => work)
    assert.deepEqual(await wrappedOk?.handler(ctx), { text: 'done' })
    await assert.rejects(wrappedFailing?.handler(ctx) ?? Promise.resolve(), (error: unknown) => error instanceof UpstreamError && error.code === 'AWS_THROTTLED')
    shutdown.abort()
    await assert.rejects(wrappedOk?.handler(ctx) ?? Promise.resolve(), (error: unknown) => error instanceof UpstreamError && error.code === 'CANCELLED')
  })

  it('keeps one abort listener on the shared signal however many calls are in flight, and cancels them all', async () => {
    const shutdown = new AbortController()
    const [tool] = cancelOnShutdown([stuckTool({ count: 0 })], shutdown.signal, (work) => work)
    assert.ok(tool !== undefined, 'expected: tool !== undefined')
    const listenersBefore = getEventListeners(shutdown.signal, 'abort').length
    const calls = Array.from({ length: 64 }, () => tool.handler(ctx))
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, listenersBefore, 'calls in flight must not add listeners to the shared signal')
    shutdown.abort()
    const outcomes = await Promise.allSettled(calls)
    assert.ok(
      outcomes.every((o) => o.status === 'rejected' && o.reason instanceof UpstreamError && o.reason.code === 'CANCELLED'),
      'every call in flight ends with CANCELLED at the deadline',
    )
  })
})
