import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { ownSignalFetch } from '../../bench/lib/own-signal-fetch.js'

describe('ownSignalFetch (the load generator’s fetch)', () => {
  let server: Server
  let url: string
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return // never answers: for the abort case
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ok: true, path: req.url }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('leaves no abort listener on the shared signal once each body is read', async () => {
    const shared = new AbortController()
    for (let i = 0; i < 50; i++) {
      const response = await ownSignalFetch(`${url}/n${i}`, { signal: shared.signal })
      assert.deepEqual(await response.json(), { ok: true, path: `/n${i}` }, 'the body arrives unchanged')
      assert.equal(response.status, 200, 'the status is kept')
      assert.equal(response.headers.get('content-type'), 'application/json', 'the headers are kept')
    }
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0, 'every tie to the shared signal was cut')
  })

  it('plain fetch with one shared signal is what piles listeners up (the reason for the wrapper)', async () => {
    const shared = new AbortController()
    const kept: Response[] = []
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`${url}/p${i}`, { signal: shared.signal })
      await response.json()
      kept.push(response) // kept reachable, as a busy client's recent requests are until GC
    }
    assert.ok(getEventListeners(shared.signal, 'abort').length >= 20, 'fetch keeps a listener per live request')
  })

  it('still aborts a request in flight when the shared signal fires', async () => {
    const shared = new AbortController()
    const pending = ownSignalFetch(`${url}/hang`, { signal: shared.signal })
    setTimeout(() => shared.abort(new Error('closing')), 20)
    await assert.rejects(pending, /closing|abort/i, 'the request is aborted with the client')
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0, 'no tie is left behind')
  })

  it('refuses at once when the shared signal has already fired', async () => {
    const shared = new AbortController()
    shared.abort(new Error('closed before'))
    await assert.rejects(ownSignalFetch(`${url}/x`, { signal: shared.signal }), /closed before|abort/i, 'nothing is sent on a closed client')
  })
})
