import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createLogger } from '../../src/cli/logger.js'
import { createTeardown } from '../support/teardown.js'
import { INITIALIZE } from './support/raw-http.js'
import { startE2E, type E2E } from './support/start-e2e.js'

interface Answer {
  readonly status: number
  readonly retryAfter: string | undefined
}

/** POST initialize to /mcp from a chosen loopback address (127.0.0.0/8 is all this host's). */
function postFrom(localAddress: string, url: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(INITIALIZE))
  })
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

const GARBAGE = { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.Zm9yZ2Vk' }

describe('unauthenticated floods are limited per client address (composition root)', () => {
  const teardown = createTeardown()
  const logLines: string[] = []
  let e2e: E2E
  before(async () => {
    e2e = await startE2E({
      config: { unauthenticatedLimit: { burst: 5, perMinute: 6 } },
      logger: createLogger((line) => logLines.push(line), Date.now),
    })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  it('refuses the flooding address with 429 and Retry-After while other addresses and valid callers go on', async () => {
    const url = e2e.gateway.resource
    const scrape = async () => (await fetch(`${e2e.gateway.admin?.origin}/metrics`)).text()
    const before = await scrape()
    const flood: Answer[] = []
    for (let i = 0; i < 20; i++) flood.push(await postFrom('127.0.0.2', url, GARBAGE))
    assert.deepEqual(flood.map((a) => a.status), [...Array<number>(5).fill(401), ...Array<number>(15).fill(429)])
    // 6 per minute: the next allowance is 10 s away.
    assert.deepEqual(new Set(flood.slice(5).map((a) => a.retryAfter)), new Set(['10']))

    // Another address has its own allowance; a valid caller elsewhere is served as usual.
    assert.equal((await postFrom('127.0.0.3', url, GARBAGE)).status, 401)
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    assert.equal((await client.callTool({ name: 'whoami', arguments: {} })).isError, undefined)
    // Refused before the token is read: a valid token from the flooding address waits like the rest.
    const valid = { authorization: `Bearer ${await e2e.token('alice', ['dba'])}` }
    assert.equal((await postFrom('127.0.0.2', url, valid)).status, 429)
    // A client cannot pick another address with X-Forwarded-For: no proxy is trusted.
    assert.equal((await postFrom('127.0.0.2', url, { ...valid, 'x-forwarded-for': '198.51.100.9' })).status, 429)

    const after = await scrape()
    const moved = (series: string) => sample(after, series) - sample(before, series)
    assert.equal(moved('airlock_rate_limited_total{limit="unauthenticated"}'), 17)
    assert.equal(moved('airlock_http_requests_total{route="mcp",outcome="throttled"}'), 17)
    // Only the verified refusals count as auth failures: 5 from .2, 1 from .3.
    const failures = after.split('\n').filter((l) => l.startsWith('airlock_auth_failures_total{')).reduce((sum, l) => sum + Number(l.split(' ')[1]), 0)
    assert.equal(failures, 6)

    const warnings = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'warn' && l.client !== undefined)
    assert.deepEqual(warnings.map((l) => l.client), ['127.0.0.2'], 'one line when the address runs out, not one per refusal')

    e2e.clock.advance(10_000)
    assert.equal((await postFrom('127.0.0.2', url, valid)).status, 200, 'served again once an allowance is back')
  })
})

describe('behind a trusted proxy, the forwarded client address is the one limited', () => {
  const teardown = createTeardown()
  let e2e: E2E
  before(async () => {
    e2e = await startE2E({ config: { unauthenticatedLimit: { burst: 2, perMinute: 60 }, trustedProxies: ['127.0.0.4'] } })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  it('limits each forwarded client on its own, and the proxy itself not at all', async () => {
    const url = e2e.gateway.resource
    const via = (client: string) => ({ ...GARBAGE, 'x-forwarded-for': `203.0.113.50, ${client}` })
    const statuses = async (peer: string, client: string, n: number) => {
      const out: number[] = []
      for (let i = 0; i < n; i++) out.push((await postFrom(peer, url, via(client))).status)
      return out
    }
    assert.deepEqual(await statuses('127.0.0.4', '198.51.100.7', 4), [401, 401, 429, 429])
    assert.deepEqual(await statuses('127.0.0.4', '198.51.100.8', 2), [401, 401])
    // An untrusted peer's header is ignored: it is counted under its own address, whatever it names.
    assert.deepEqual(await statuses('127.0.0.5', '198.51.100.9', 3), [401, 401, 429])
    assert.deepEqual(await statuses('127.0.0.5', '198.51.100.10', 1), [429])
  })
})
