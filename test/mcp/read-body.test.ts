import assert from 'node:assert/strict'
import { createServer, request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { readBody, type BodyResult } from '../../src/mcp/read-body.js'

const MAX = 64
let port = 0
const outcomes: ((outcome: BodyResult | Error) => void)[] = []
const server = createServer((req: IncomingMessage, res) => {
  const report = outcomes.shift()
  readBody(req, MAX).then(
    (result) => {
      report?.(result)
      res.setHeader('connection', 'close')
      res.end()
    },
    (error: unknown) => report?.(error instanceof Error ? error : new Error(String(error))),
  )
})

/** Sends `chunks` one by one (chunked encoding, or with `headers`), and resolves with what readBody made of them. */
function send(chunks: readonly (string | Buffer)[], headers: Record<string, string> = {}, abortAfter?: number): Promise<BodyResult | Error> {
  const outcome = new Promise<BodyResult | Error>((resolve) => outcomes.push(resolve))
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers })
  req.on('error', () => {})
  req.on('response', (res) => res.resume())
  chunks.forEach((chunk, i) => {
    req.write(chunk)
    if (i + 1 === abortAfter) setTimeout(() => req.destroy(), 20)
  })
  if (abortAfter === undefined) req.end()
  return outcome
}

describe('readBody', () => {
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('joins a body sent in pieces, a character split across two of them included', async () => {
    const euro = Buffer.from('€', 'utf8')
    const result = await send(['{"a":"', euro.subarray(0, 1), euro.subarray(1), '"}'])
    assert.deepEqual(result, { ok: true, text: '{"a":"€"}' })
  })

  it('reads an empty body as empty text', async () => {
    assert.deepEqual(await send([], { 'content-length': '0' }), { ok: true, text: '' })
  })

  it('refuses a declared length over the cap without reading', async () => {
    assert.deepEqual(await send(['x'], { 'content-length': String(MAX + 1) }), { ok: false, reason: 'too_large' })
  })

  it('stops at the first piece past the cap of a streamed body, before it ends', { timeout: 5000 }, async () => {
    // The client never ends this body: only stopping early can answer.
    assert.deepEqual(await send(['x'.repeat(MAX), 'y'], {}, 99), { ok: false, reason: 'too_large' })
  })

  it('takes a body of exactly the cap', async () => {
    assert.deepEqual(await send(['x'.repeat(MAX - 1), 'y']), { ok: true, text: `${'x'.repeat(MAX - 1)}y` })
  })

  it('rejects when the client goes away mid-body', async () => {
    const result = await send(['{"partial":'], {}, 1)
    assert.ok(result instanceof Error, 'an aborted body is an error, not a body')
  })
})
