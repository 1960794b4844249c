import assert from 'node:assert/strict'
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { createRequestDrain, DRAIN_RETRY_AFTER_SECONDS, type RequestDrain } from '../../src/cli/drain-requests.js'

function get(agent: Agent, port: number, path: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reused: req.reusedSocket }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('createRequestDrain', () => {
  let server: Server
  let port: number
  let drain: RequestDrain
  const release = new Map<string, () => void>()

  before(async () => {
    drain = createRequestDrain()
    // `/hold/<name>` answers when the test releases it (`/hold/started…` sends its headers first); anything else at once.
    server = createServer(
      drain.wrap((req, res) => {
        const name = req.url?.startsWith('/hold/') === true ? req.url.slice(6) : undefined
        if (name === undefined) return void res.end('ok')
        if (name.startsWith('started')) res.flushHeaders()
        release.set(name, () => res.end(`released ${name}`))
      }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    if (address === null || typeof address === 'string') throw new TypeError('no port')
    port = address.port
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })

  it('counts requests and tracked work until they end, and refuses new requests once draining', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const quietAgent = new Agent({ keepAlive: true, maxSockets: 1 })
    assert.equal((await get(agent, port, '/')).status, 200)
    assert.equal(drain.inflight, 0)
    assert.equal(await drain.settled(10), true)

    const started = get(agent, port, '/hold/started')
    const quiet = get(quietAgent, port, '/hold/quiet')
    while (!release.has('started') || !release.has('quiet')) await sleep(5)
    let finishWork: () => void = () => undefined
    const work = drain.track(new Promise<void>((resolve) => (finishWork = resolve)))
    assert.equal(drain.inflight, 3)

    drain.begin()
    assert.equal(drain.draining, true)
    assert.equal(await drain.settled(50), false, 'still in flight when the time is up')
    release.get('started')?.()
    release.get('quiet')?.()
    // Requests in flight when the drain began are answered normally; one not yet started is told to close.
    const [startedAnswer, quietAnswer] = await Promise.all([started, quiet])
    assert.equal(startedAnswer.body, 'released started')
    assert.equal(startedAnswer.headers.connection, 'keep-alive')
    assert.equal(quietAnswer.body, 'released quiet')
    assert.equal(quietAnswer.headers.connection, 'close')
    assert.equal(drain.inflight, 1)

    // A new request on a kept-alive connection is refused and the connection closed.
    const late = await get(agent, port, '/')
    assert.equal(late.reused, true)
    assert.equal(late.status, 503)
    assert.equal(late.headers['retry-after'], String(DRAIN_RETRY_AFTER_SECONDS))
    assert.equal(late.headers.connection, 'close')
    assert.match(late.body, /shutting down/)

    const settled = drain.settled(5_000)
    finishWork()
    await work
    assert.equal(drain.inflight, 1, 'tracked work counts until a macrotask after it settles')
    assert.equal(await settled, true)
    assert.equal(drain.inflight, 0)
    agent.destroy()
    quietAgent.destroy()
  })
})
