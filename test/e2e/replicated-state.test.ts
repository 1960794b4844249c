import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { z } from 'zod'
import type { Logger } from '../../src/cli/logger.js'
import { defineTool, type AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { createTeardown } from '../support/teardown.js'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js'
import { modernHeaders, modernRequest, openSession, postMcp, sessionHeaders } from './support/raw-http.js'
import { startE2E, type E2E } from './support/start-e2e.js'

const AUDIENCE = 'https://airlock.test/mcp'

const POLICY = {
  version: 1,
  grants: [
    { id: 'dba-self', groups: ['dba'], tools: ['whoami', 'list_connections'], ttl: '15m', limits: { callsPerMinute: 3 } },
    { id: 'sre-whoami', groups: ['sre'], tools: ['whoami'], ttl: '30m' },
    { id: 'ops-hold', groups: ['ops'], tools: ['hold'], ttl: '15m', limits: { concurrentCalls: 1 } },
  ],
}

/** A tool that runs until the test lets it finish. */
function holdTool(gate: { entered: () => void; wait: () => Promise<void> }): AnyToolDefinition {
  return defineTool({
    name: 'hold',
    title: 'Hold',
    description: 'Waits until released.',
    connectionKinds: [],
    input: {},
    annotations: () => ({ readOnlyHint: true, destructiveHint: false }),
    async handler() {
      gate.entered()
      await gate.wait()
      return { text: 'released' }
    },
  }) as AnyToolDefinition
}

function textOf(result: Record<string, unknown>): string {
  const [first] = Array.isArray(result.content) ? result.content : []
  return typeof first === 'object' && first !== null && 'text' in first && typeof first.text === 'string' ? first.text : ''
}

const accessSchema = z.object({ access: z.array(z.object({ grantId: z.string(), status: z.string(), endsAt: z.string().optional() })) })

async function auditRecords(e2e: E2E): Promise<Record<string, unknown>[]> {
  return (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((line) => z.record(z.string(), z.unknown()).parse(JSON.parse(line)))
}

const teardown = createTeardown()
const prefixes: string[] = []
after(async () => {
  await teardown.run()
  const redis = new Redis({ host: '127.0.0.1', port: 6379 })
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
  }
  redis.disconnect()
})

/** Short timeouts where a test stalls Redis on purpose; elsewhere room for a loaded machine (a missed first ping would read as an outage). */
function redisState(port = 6379, commandTimeoutMs = 2_000): { kind: 'redis'; url: string; keyPrefix: string; commandTimeoutMs: number } {
  const keyPrefix = `airlock-test:${randomBytes(6).toString('hex')}:`
  prefixes.push(keyPrefix)
  return { kind: 'redis', url: `redis://127.0.0.1:${port}`, keyPrefix, commandTimeoutMs }
}

describe('two replicas sharing one Redis', () => {
  let a: E2E
  let b: E2E
  let release: () => void = () => undefined
  let entered: () => void = () => undefined
  let open = false
  const gate = { entered: () => entered(), wait: () => (open ? Promise.resolve() : new Promise<void>((resolve) => (release = resolve))) }

  before(async () => {
    const state = redisState()
    const config = { audience: AUDIENCE, state, limits: { callsPerMinute: 4 } }
    const tools = [...registeredTools, holdTool(gate)]
    a = await startE2E({ policy: POLICY, config, tools })
    teardown.add(() => a.close())
    b = await startE2E({ policy: POLICY, config, tools, replicaOf: a })
    teardown.add(() => b.close())
  })

  it('see one activation: started through A on the 2025 lane, shown and ended through B on the 2026-07-28 lane', async () => {
    const t0 = a.clock.now()
    const signIn = Math.floor(t0 / 1000)
    const legacy = await a.connect(await a.token('alice', ['dba'], { auth_time: signIn }))
    const first = accessSchema.parse((await legacy.client.callTool({ name: 'whoami', arguments: {} })).structuredContent)
    assert.deepEqual(first.access, [{ grantId: 'dba-self', status: 'active', endsAt: '2026-11-29T12:15:00.000Z' }])

    a.clock.advance(5 * 60 * 1000)
    const modern = await b.connectModern(await b.token('alice', ['dba'], { auth_time: signIn }))
    const seen = accessSchema.parse((await modern.callTool({ name: 'whoami', arguments: {} })).structuredContent)
    assert.deepEqual(seen.access, first.access, 'B continues the period A started')

    a.clock.advance(10 * 60 * 1000)
    const late = await b.connectModern(await b.token('alice', ['dba'], { auth_time: signIn }))
    assert.match(textOf(await late.callTool({ name: 'whoami', arguments: {} })), /^\[GRANT_EXPIRED\] .*ended at 12:15 UTC/)
    const again = await a.connect(await a.token('alice', ['dba'], { auth_time: signIn }))
    assert.match(textOf(await again.client.callTool({ name: 'whoami', arguments: {} })), /^\[GRANT_EXPIRED\]/)
    const started = [...(await auditRecords(a)), ...(await auditRecords(b))].filter((r) => r.type === 'grant.activated' && z.object({ sub: z.string() }).parse(r.actor).sub === 'alice')
    assert.equal(started.length, 1, 'one activation, recorded by the replica that started it')
  })

  it('hold a grant’s callsPerMinute across both replicas, with a retry-after', async () => {
    const call = async (via: E2E) => {
      const client = await via.connectModern(await via.token('bob', ['dba']))
      return client.callTool({ name: 'whoami', arguments: {} })
    }
    for (const via of [a, b, a]) {
      assert.equal((await call(via)).isError, undefined)
      a.clock.advance(10_000)
    }
    const refused = await call(b)
    assert.match(textOf(refused), /^\[RATE_LIMITED\] Too many calls; this one was refused and did nothing\. Retry after 30 s\. \(correlation id [0-9a-f]{12}\)$/)
    assert.equal((await call(a)).isError, true, 'and through the other replica')
    a.clock.advance(30_000)
    assert.equal((await call(a)).isError, undefined, 'room again once the first call left the minute')
    const denial = (await auditRecords(b)).find((r) => r.type === 'tools.call' && r.code === 'RATE_LIMITED')
    assert.deepEqual([denial?.decision, denial?.reason, denial?.grantId], ['deny', 'CALLS_PER_MINUTE', 'dba-self'])
  })

  it('hold the gateway-wide per-subject default for grants without limits', async () => {
    a.clock.advance(60_000)
    const answers: boolean[] = []
    for (const via of [a, b, a, b, a]) {
      const client = await via.connectModern(await via.token('heidi', ['sre']))
      answers.push((await client.callTool({ name: 'whoami', arguments: {} })).isError === true)
    }
    assert.deepEqual(answers, [false, false, false, false, true])
  })

  it('count concurrent calls across replicas and free the place when the call ends', async () => {
    const inside = new Promise<void>((resolve) => (entered = resolve))
    const first = await a.connectModern(await a.token('ivan', ['ops']))
    const held = first.callTool({ name: 'hold', arguments: {} })
    await inside
    const second = await b.connectModern(await b.token('ivan', ['ops']))
    assert.match(textOf(await second.callTool({ name: 'hold', arguments: {} })), /^\[RATE_LIMITED\] .*as many calls in flight as allowed; retry after 1 s/)
    open = true
    release()
    assert.equal(textOf(await held), 'released')
    assert.equal(textOf(await second.callTool({ name: 'hold', arguments: {} })), 'released', 'the place is free again')
  })
})

describe('a replica whose Redis is slow or gone', () => {
  let e2e: E2E
  let proxy: TcpProxy
  const lines: string[] = []
  const logger: Logger = { info: (m) => void lines.push(`info ${m}`), warn: (m) => void lines.push(`warn ${m}`), error: (m) => void lines.push(`error ${m}`) }

  before(async () => {
    proxy = await startTcpProxy({ port: 6379 })
    teardown.add(() => proxy.close())
    e2e = await startE2E({ policy: { ...POLICY, grants: POLICY.grants.filter((g) => g.id !== 'ops-hold') }, config: { state: redisState(proxy.port, 200) }, logger })
    teardown.add(() => e2e.close())
  })

  const modernCall = async (token: string) => postMcp(e2e.gateway.resource, modernRequest(1, 'tools/call', { name: 'whoami', arguments: {} }), modernHeaders(token, 'tools/call', 'whoami'))

  it('refuses calls (a tool error once, then 503 + Retry-After on both lanes), keeps tools/list, and recovers by itself', async () => {
    const token = await e2e.token('judy', ['sre'])
    const sessionId = await openSession(e2e.gateway.resource, token)
    assert.equal((await modernCall(token)).status, 200)

    proxy.setMode('slow', 1_000)
    // The first call finds Redis healthy and times out inside the pipeline: refused, as a tool error.
    const during = await modernCall(token)
    assert.equal(during.status, 200)
    assert.match(during.text, /\[STATE_UNAVAILABLE\] The gateway could not reach its state store, so the call was refused and did nothing; retry in a few seconds\./)
    // From then on, refused before any lane runs.
    e2e.clock.advance(1_000)
    const modern = await modernCall(token)
    assert.deepEqual([modern.status, modern.headers.get('retry-after')], [503, '2'])
    assert.match(modern.text, /cannot reach its state store/)
    const legacy = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, sessionHeaders(token, sessionId))
    assert.deepEqual([legacy.status, legacy.headers.get('retry-after')], [503, '2'])
    const list = await postMcp(e2e.gateway.resource, modernRequest(2, 'tools/list'), modernHeaders(token, 'tools/list'))
    assert.equal(list.status, 200, 'listing tools needs no state')
    assert.ok(lines.includes('error state store (Redis) unavailable: tool calls are refused with 503 and Retry-After until it answers'), lines.join('\n'))

    proxy.setMode('forward')
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      e2e.clock.advance(1_000)
      status = (await modernCall(token)).status
    }
    assert.equal(status, 200, 'served again once Redis answers')
    assert.ok(lines.includes('info state store (Redis) answers again; calls are served'), lines.join('\n'))
  })

  it('answers 503 at once while the connection to Redis is down, and recovers when it is back', async () => {
    const token = await e2e.token('kim', ['sre'])
    await proxy.stop()
    const down = await modernCall(token)
    assert.deepEqual([down.status, down.headers.get('retry-after')], [503, '2'])
    await proxy.start()
    let status = 0
    for (let attempt = 0; attempt < 60 && status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      e2e.clock.advance(1_000)
      status = (await modernCall(token)).status
    }
    assert.equal(status, 200, 'ioredis reconnected and the probe saw it')
    const records = await auditRecords(e2e)
    assert.ok(records.some((r) => r.type === 'tools.call' && r.code === 'STATE_UNAVAILABLE' && r.outcome === 'error'), 'the refused call is audited')
  })
})
