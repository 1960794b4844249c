import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sendBounded, type SendOptions } from '../../src/aws/bounded-send.js'
import { UpstreamError } from '../../src/errors.js'

/** A send that never settles on its own, and records what it was given. */
function hanging(seen: SendOptions[]): (options: SendOptions) => Promise<never> {
  return (options) => {
    seen.push(options)
    return new Promise<never>(() => undefined)
  }
}

const code = (expected: string) => (error: unknown) => error instanceof UpstreamError && error.code === expected

describe('sendBounded', () => {
  it('returns what the call returns, and passes an unaborted signal', async () => {
    const seen: SendOptions[] = []
    const value = await sendBounded(async (o) => {
      seen.push(o)
      return 42
    }, { label: 'Op', signal: new AbortController().signal, timeoutMs: 1000 })
    assert.equal(value, 42)
    assert.equal(seen[0]?.abortSignal.aborted, false)
    assert.equal(seen[0]?.requestTimeout, undefined, "the client's own request timeout applies unless a call sets one")
  })

  it('passes the SDK error through unchanged', async () => {
    const sdk = Object.assign(new Error('boom'), { name: 'ThrottlingException' })
    await assert.rejects(sendBounded(() => Promise.reject(sdk), { label: 'Op', signal: undefined, timeoutMs: 1000 }), (e) => e === sdk)
  })

  it('gives up at the deadline with AWS_TIMEOUT and aborts the request', async () => {
    const seen: SendOptions[] = []
    const started = performance.now()
    await assert.rejects(sendBounded(hanging(seen), { label: 'Op', signal: undefined, timeoutMs: 50 }), code('AWS_TIMEOUT'))
    assert.ok(performance.now() - started < 1000, 'expected: performance.now() - started < 1000')
    assert.equal(seen[0]?.abortSignal.aborted, true)
  })

  it('gives up at once on the caller\'s cancellation with CANCELLED and aborts the request', async () => {
    const seen: SendOptions[] = []
    const controller = new AbortController()
    const running = sendBounded(hanging(seen), { label: 'Op', signal: controller.signal, timeoutMs: 60_000 })
    controller.abort()
    await assert.rejects(running, code('CANCELLED'))
    assert.equal(seen[0]?.abortSignal.aborted, true)
  })

  it('sends nothing when the caller has already cancelled', async () => {
    const seen: SendOptions[] = []
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(sendBounded(hanging(seen), { label: 'Op', signal: controller.signal, timeoutMs: 60_000 }), code('CANCELLED'))
    assert.equal(seen.length, 0)
  })

  it('passes a per-call HTTP timeout when asked, and bounds a non-positive deadline to at once', async () => {
    const seen: SendOptions[] = []
    await assert.rejects(sendBounded(hanging(seen), { label: 'Op', signal: undefined, timeoutMs: -5, httpTimeoutMs: 1234.7 }), code('AWS_TIMEOUT'))
    assert.equal(seen[0]?.requestTimeout, 1234)
  })
})
