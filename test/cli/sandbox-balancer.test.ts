import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { startBalancer } from '../../src/cli/sandbox-balancer.js'
import { createTeardown } from '../support/teardown.js'

const teardown = createTeardown()
after(() => teardown.run())

interface Backend {
  readonly origin: string
  readonly bodies: string[]
  readonly server: Server
}

async function backend(name: string, behaviour: 'answer' | 'reset' = 'answer'): Promise<Backend> {
  const bodies: string[] = []
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => (text += chunk.toString()))
    req.on('end', () => {
      bodies.push(text)
      if (behaviour === 'reset') {
        req.socket.destroy()
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name, 'x-host-seen': req.headers.host ?? '' }).end(`${name}:${text}`)
    })
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  teardown.add(() => new Promise<void>((done) => server.close(() => done())))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server }
}

describe('sandbox balancer', () => {
  it('alternates requests between replicas and forwards method, body, Host and answer', async () => {
    const [a, b] = [await backend('a'), await backend('b')]
    const balancer = await startBalancer({ host: '127.0.0.1', port: 0, backends: [a.origin, b.origin] })
    teardown.add(() => balancer.close())
    const seen: string[] = []
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${balancer.url}/mcp`, { method: 'POST', body: `m${i}` })
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('x-host-seen'), new URL(balancer.url).host, 'the replica sees the public Host')
      seen.push(await response.text())
    }
    assert.deepEqual(seen, ['a:m0', 'b:m1', 'a:m2', 'b:m3'])
    assert.deepEqual(balancer.served, [2, 2])
  })

  it('sends a request to the next replica only when the chosen one refused the connection', async () => {
    const a = await backend('a')
    const dead = await backend('dead')
    await new Promise<void>((done) => dead.server.close(() => done()))
    const balancer = await startBalancer({ host: '127.0.0.1', port: 0, backends: [dead.origin, a.origin] })
    teardown.add(() => balancer.close())
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${balancer.url}/x`, { method: 'POST', body: `r${i}` })
      assert.equal(await response.text(), `a:r${i}`)
    }
    assert.deepEqual(a.bodies, ['r0', 'r1', 'r2'])
  })

  it('never resends a request that may have reached a replica: a reset is a 502', async () => {
    const resetting = await backend('reset', 'reset')
    const other = await backend('other')
    const balancer = await startBalancer({ host: '127.0.0.1', port: 0, backends: [resetting.origin, other.origin] })
    teardown.add(() => balancer.close())
    const response = await fetch(`${balancer.url}/mcp`, { method: 'POST', body: 'once' })
    assert.equal(response.status, 502)
    assert.deepEqual(resetting.bodies, ['once'])
    assert.deepEqual(other.bodies, [], 'the other replica never saw the request')
  })

  it('answers 502 when every replica refuses', async () => {
    const dead = await backend('dead')
    await new Promise<void>((done) => dead.server.close(() => done()))
    const balancer = await startBalancer({ host: '127.0.0.1', port: 0, backends: [dead.origin, dead.origin] })
    teardown.add(() => balancer.close())
    assert.equal((await fetch(balancer.url)).status, 502)
  })
})
