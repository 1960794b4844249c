import assert from 'node:assert/strict'
import { request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import { defineTool, type AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { openSession, postMcp, sessionHeaders } from './support/raw-http.js'
import { startE2E, type E2E } from './support/start-e2e.js'

/** Calls of `waiter` that are running, and those whose signal aborted, by the `tag` argument. */
const running = new Map<string, () => void>()
const aborted = new Set<string>()

const ticker = defineTool({
  name: 'ticker',
  title: 'Ticker',
  description: 'Reports progress twice, then returns.',
  connectionKinds: [],
  input: {},
  annotations: () => ({ readOnlyHint: true, destructiveHint: false }),
  async handler({ progress }) {
    await progress({ progress: 1, total: 2 })
    await progress({ progress: 2, total: 2 })
    return { text: 'ticked' }
  },
})

const waiter = defineTool({
  name: 'waiter',
  title: 'Waiter',
  description: 'Returns once its signal aborts.',
  connectionKinds: [],
  input: { tag: z.string() },
  annotations: () => ({ readOnlyHint: true, destructiveHint: false }),
  async handler({ signal, args }) {
    const { tag } = args
    await new Promise<void>((resolve) => {
      running.set(tag, resolve)
      signal.addEventListener('abort', () => {
        aborted.add(tag)
        resolve()
      })
    })
    running.delete(tag)
    return { text: 'stopped' }
  },
})

function call(id: number, name: string, args: Record<string, unknown>, progressToken?: string): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(progressToken === undefined ? {} : { _meta: { progressToken } }) } }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(20)
  assert.ok(condition(), `timed out waiting for ${what}`)
}

describe('the 2025 lane answers plain JSON unless the call asked for progress, and still aborts calls the client left', () => {
  let e2e: E2E
  let token: string
  let session: string
  before(async () => {
    e2e = await startE2E({
      tools: [...registeredTools, ticker as unknown as AnyToolDefinition, waiter as unknown as AnyToolDefinition],
      policy: { version: 1, grants: [{ id: 'test', groups: ['dba'], tools: ['ticker', 'waiter', 'whoami'] }] },
    })
    token = await e2e.token('alice', ['dba'])
    session = await openSession(e2e.gateway.resource, token)
  })
  after(() => e2e.close())

  /** Posts `body` in the session and leaves the request open; `hangUp` destroys it (the client walks away). */
  function postAndHold(body: unknown): { hangUp: () => void } {
    const target = new URL(e2e.gateway.resource)
    const req = request({
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...sessionHeaders(token, session) },
    })
    req.on('error', () => undefined)
    req.end(JSON.stringify(body))
    return { hangUp: () => req.destroy() }
  }

  it('answers a call without a progress token as application/json', async () => {
    const response = await postMcp(e2e.gateway.resource, call(2, 'ticker', {}), sessionHeaders(token, session))
    assert.equal(response.status, 200, response.text)
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/, 'a single response needs no stream')
    const message = JSON.parse(response.text) as { id?: unknown; result?: { content?: unknown } }
    assert.equal(message.id, 2, 'the JSON body is the call’s response')
    assert.deepEqual(message.result?.content, [{ type: 'text', text: 'ticked' }], 'the tool’s result, not a stream frame')
  })

  it('streams a call that asks for progress (text/event-stream), with the progress before the result', async () => {
    const response = await postMcp(e2e.gateway.resource, call(3, 'ticker', {}, 'tick-1'), sessionHeaders(token, session))
    assert.equal(response.status, 200, response.text)
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/, 'progress needs the stream')
    const progress = [...response.text.matchAll(/"method":"notifications\/progress"[^\n]*"progress":(\d)/g)].map((m) => Number(m[1]))
    assert.deepEqual(progress, [1, 2], `both progress notifications on the stream: ${response.text}`)
    assert.ok(response.text.indexOf('notifications/progress') < response.text.indexOf('"result"'), 'progress arrives before the result')
  })

  it('streams a batch when any of its calls asks for progress', async () => {
    const response = await postMcp(e2e.gateway.resource, [call(4, 'whoami', {}), call(5, 'ticker', {}, 'tick-2')], sessionHeaders(token, session))
    assert.equal(response.status, 200, response.text)
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/, 'one progress token is enough')
    assert.match(response.text, /"progressToken":"tick-2"/, 'its progress is delivered')
  })

  it('delivers progress to the official SDK client, which also takes the JSON answers', async () => {
    const { client } = await e2e.connect(token)
    const seen: number[] = []
    const result = await client.callTool({ name: 'ticker', arguments: {} }, undefined, { onprogress: (p) => seen.push(p.progress) })
    assert.deepEqual(result.content, [{ type: 'text', text: 'ticked' }], 'the result after the stream')
    assert.deepEqual(seen, [1, 2], 'both progress notifications reached the client')
    const plain = await client.callTool({ name: 'ticker', arguments: {} })
    assert.deepEqual(plain.content, [{ type: 'text', text: 'ticked' }], 'a JSON answer is read as well')
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'waiter'), 'tools/list over JSON')
  })

  for (const [label, progressToken] of [['a JSON', undefined], ['an SSE', 'wait-progress']] as const) {
    it(`aborts the call when the client hangs up on ${label} response mid-call`, async () => {
      const tag = `hang-up-${progressToken ?? 'json'}`
      const held = postAndHold(call(10, 'waiter', { tag }, progressToken))
      await until(() => running.has(tag), 'the call to start')
      assert.ok(!aborted.has(tag), 'not aborted while the client waits')
      held.hangUp()
      await until(() => aborted.has(tag), 'the tool’s signal to abort after the client left')
    })
  }

  it('cancels a running call on notifications/cancelled sent in another POST', async () => {
    const tag = 'cancelled'
    const target = new URL(e2e.gateway.resource)
    const answer = new Promise<{ type: string; text: string }>((resolve, reject) => {
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...sessionHeaders(token, session) } },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => resolve({ type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString('utf8') }))
        },
      )
      req.on('error', reject)
      req.end(JSON.stringify(call(20, 'waiter', { tag })))
    })
    await until(() => running.has(tag), 'the call to start')
    const cancel = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 20, reason: 'test' } }, sessionHeaders(token, session))
    assert.equal(cancel.status, 202, cancel.text)
    await until(() => aborted.has(tag), 'the tool’s signal to abort on notifications/cancelled')
    const { type, text } = await answer
    assert.match(type, /^application\/json/, 'the cancelled call’s request still gets its (JSON) answer')
    assert.equal((JSON.parse(text) as { id?: unknown }).id, 20, 'the answer is for the cancelled call')
  })

  it('does not cancel a call on a notifications/cancelled naming another id', async () => {
    const tag = 'not-cancelled'
    const held = postAndHold(call(30, 'waiter', { tag }))
    try {
      await until(() => running.has(tag), 'the call to start')
      const cancel = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 31 } }, sessionHeaders(token, session))
      assert.equal(cancel.status, 202, cancel.text)
      await sleep(200)
      assert.ok(!aborted.has(tag), 'a cancellation of another request leaves this call running')
    } finally {
      held.hangUp()
      await until(() => aborted.has(tag), 'the call to end with its client')
    }
  })
})
