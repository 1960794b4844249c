import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { Agent, request, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { verifyAuditFile } from '../../src/audit/verify-audit.js'
import { systemClock } from '../../src/clock.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { DEMO_INSTANCES } from '../../src/sandbox/ssm/ssm-fleet.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { startHangProxy, type HangProxy } from '../support/hang-proxy.js'
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway.js'
import { startTestIssuer, type TestIssuer } from '../support/test-issuer.js'

const ACCOUNT = '111122223333'
const INSTANCE = 'i-0a1b2c3d4e5f60001'
const DRAIN_SECONDS = 3
const credentials = {
  accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64'),
  sessionToken: randomBytes(40).toString('base64'),
}

interface RawAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly reusedSocket: boolean
}

/** One HTTP request through `agent` (keep-alive, one socket), so the next one reuses the connection. */
function send(agent: Agent | false, url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, reusedSocket: req.reusedSocket }))
      // A response cut off mid-stream (socket closed without the reply) ends in 'close' without 'end'.
      res.on('close', () => {
        if (!res.complete) reject(new Error(`response cut off after ${JSON.stringify(text)}`))
      })
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

/** The JSON-RPC message with `id` in a JSON or SSE body. */
function rpcMessage(body: string, id: number): Record<string, unknown> {
  const candidates = body.trimStart().startsWith('{') ? [body] : body.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5))
  for (const candidate of candidates) {
    const message: unknown = JSON.parse(candidate)
    if (typeof message === 'object' && message !== null && 'id' in message && message.id === id) return message as Record<string, unknown>
  }
  throw new Error(`no JSON-RPC message with id ${id} in ${body}`)
}

/** Rejects with `what` when `promise` takes longer than `ms`: a broken drain must fail, not hang the suite. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`${what}: nothing after ${ms} ms`)))])
}

type ToolResult = { isError?: boolean; content: { type: string; text?: string }[]; structuredContent?: Record<string, unknown> }

describe('airlock serve drains on SIGTERM (real process, real signal)', () => {
  const store = createCredentialStore([{ ...credentials, principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/airlock-gateway/drain` }])
  let dir: string
  let issuer: TestIssuer
  let ssm: SsmEmulator
  let ssmProxy: HangProxy
  let rdsHung: HangProxy
  let gateway: SpawnedGateway

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-drain-'))
    issuer = await startTestIssuer()
    ssm = await startSsmEmulator({ store, trail: createTrail(systemClock), clock: systemClock, instances: DEMO_INSTANCES })
    // SendCommand for `echo hang` never gets an answer; everything else reaches the emulator.
    ssmProxy = await startHangProxy({ target: ssm.endpoint, hold: (req, body) => String(req.headers['x-amz-target']).endsWith('SendCommand') && body.includes("'echo' 'hang'") })
    // A Data API endpoint that accepts and never answers.
    rdsHung = await startHangProxy()
    await writeFile(
      join(dir, 'policy.json'),
      JSON.stringify({
        version: 1,
        connections: {
          web: { kind: 'ssm', region: 'us-east-1', instanceIds: [INSTANCE] },
          orders: { kind: 'rds-data', region: 'us-east-1', engine: 'postgres', database: 'test', resourceArn: `arn:aws:rds:us-east-1:${ACCOUNT}:cluster:orders`, secretArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:orders-Ab12Cd` },
        },
        grants: [
          { id: 'sre-ops', groups: ['sre'], connections: ['web'], tools: ['ssm_run', 'whoami'], ssm: { commands: [['sleep', '{int:1-30}'], ['echo', '{word}']] } },
          { id: 'sre-sql', groups: ['sre'], connections: ['orders'], tools: ['sql_query'], sql: { mode: 'read-only' } },
        ],
      }),
    )
    gateway = await spawnGateway({
      dir,
      config: {
        issuer: issuer.issuer,
        listen: { host: '127.0.0.1', port: 0 },
        policy: ['policy.json'],
        audit: { path: 'audit.jsonl', durability: 'fsync' },
        awsEndpoints: { ssm: ssmProxy.endpoint, rdsData: rdsHung.endpoint },
        shutdown: { drainSeconds: DRAIN_SECONDS },
      },
      env: {
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_SESSION_TOKEN: credentials.sessionToken,
        AWS_REGION: 'us-east-1',
        AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    })
  })

  after(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL')
    await Promise.allSettled([ssmProxy?.close(), rdsHung?.close(), ssm?.close(), issuer?.stop()])
    await rm(dir, { recursive: true, force: true })
  })

  it('finishes calls within the drain window, cancels hung ones with a reply, refuses new work, audits everything and exits 0 in time', async (t) => {
    const token = await issuer.mint({ sub: 'alice', groups: ['sre'], aud: gateway.url })
    const auth = { authorization: `Bearer ${token}` }

    // A raw keep-alive connection: it carries a call that ends during the drain, then a request after it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const init = await send(agent, gateway.url, 'POST', auth, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'drain', version: '1' } } })
    assert.equal(init.status, 200, init.body)
    const session = { ...auth, 'mcp-session-id': String(init.headers['mcp-session-id']), 'mcp-protocol-version': '2025-06-18' }
    assert.equal((await send(agent, gateway.url, 'POST', session, { jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202)
    // It asks for progress, so its answer is a stream whose headers go out before the drain starts.
    const slow = send(agent, gateway.url, 'POST', session, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'ssm_run', arguments: { connection: 'web', instance: INSTANCE, command: 'sleep 1' }, _meta: { progressToken: 'drain' } } })
    // The same call without progress is answered as plain JSON, whose headers are still to be sent
    // when the drain starts: its answer tells the client to drop the connection.
    const plainAgent = new Agent({ keepAlive: true, maxSockets: 1 })
    const slowPlain = send(plainAgent, gateway.url, 'POST', session, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'ssm_run', arguments: { connection: 'web', instance: INSTANCE, command: 'sleep 1' } } })

    // Two calls that will still be hung at the deadline: one on a tool that does not listen to its
    // signal while SendCommand hangs, one whose Data API request hangs.
    const client = new Client({ name: 'drain-sdk', version: '1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: auth } }))
    const hungSsm = client.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: INSTANCE, command: 'echo hang' } }) as Promise<ToolResult>
    const hungSql = client.callTool({ name: 'sql_query', arguments: { connection: 'orders', sql: 'SELECT 1' } }) as Promise<ToolResult>
    await within(Promise.all([ssmProxy.held(1), rdsHung.held(1)]), 10_000, 'both hung requests reaching their upstream')
    while (ssm.executions().filter((e) => e.script === "'sleep' '1'").length < 2) await sleep(20)

    const signalledAt = performance.now()
    gateway.child.kill('SIGTERM')

    // (c) New connections are refused once the listener is closed.
    let refused = false
    for (let i = 0; i < 50 && !refused; i++) {
      refused = await send(false, gateway.url.replace('/mcp', '/healthz'), 'GET', {}).then(() => false, (error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED')
      if (!refused) await sleep(20)
    }
    assert.ok(refused, 'a new connection is refused during the drain')

    // (a) The call that ends inside the drain window gets its normal result.
    const done = await within(slow, 10_000, 'the call finishing inside the drain window')
    const finishedAfterMs = performance.now() - signalledAt
    assert.equal(done.status, 200)
    const doneResult = rpcMessage(done.body, 2).result as ToolResult
    assert.notEqual(doneResult.isError, true, JSON.stringify(doneResult))
    assert.equal(doneResult.structuredContent?.status, 'Success')
    assert.ok(finishedAfterMs < DRAIN_SECONDS * 1000, `finished ${Math.round(finishedAfterMs)} ms after SIGTERM`)
    const plain = await within(slowPlain, 10_000, 'the plain JSON call finishing inside the drain window')
    assert.equal(plain.status, 200)
    assert.equal(plain.headers['content-type'], 'application/json', 'no progress asked: a plain JSON answer')
    assert.equal((rpcMessage(plain.body, 4).result as ToolResult).structuredContent?.status, 'Success', plain.body)
    assert.equal(plain.headers.connection, 'close', 'an answer started during the drain tells its client not to reuse the connection')

    // (c) A new request on the kept-alive connection gets 503 and the connection is closed.
    const late = await within(send(agent, gateway.url, 'POST', session, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'whoami', arguments: {} } }), 5_000, 'the request on the kept-alive connection')
    assert.equal(late.reusedSocket, true, 'the request travelled on the kept-alive connection')
    assert.equal(late.status, 503)
    assert.ok(Number(late.headers['retry-after']) >= 1, JSON.stringify(late.headers))
    assert.equal(late.headers.connection, 'close')
    assert.match(late.body, /shutting down/)

    // (b) Calls still hung at the deadline get a proper JSON-RPC reply: CANCELLED with a correlation id.
    const cancelled = await within(Promise.all([hungSsm, hungSql]), 15_000, 'replies to the hung calls')
    const cancelledAfterMs = performance.now() - signalledAt
    assert.ok(cancelledAfterMs >= DRAIN_SECONDS * 1000 - 250, `cancelled ${Math.round(cancelledAfterMs)} ms after SIGTERM, before the deadline`)
    const correlationIds = cancelled.map((result) => {
      assert.equal(result.isError, true)
      const text = result.content[0]?.text ?? ''
      assert.match(text, /^\[CANCELLED\] .*The gateway is shutting down/)
      const id = /\(correlation id ([0-9a-f]+)\)/.exec(text)?.[1]
      assert.ok(id !== undefined, text)
      return id
    })

    // (e) The process exits 0 within the drain deadline plus a few seconds.
    const exit = await within(gateway.exited, 15_000, 'process exit')
    const exitAfterMs = exit.atMs - signalledAt
    assert.equal(exit.code, 0, gateway.stderr())
    assert.ok(exitAfterMs <= DRAIN_SECONDS * 1000 + 5000, `exited ${Math.round(exitAfterMs)} ms after SIGTERM`)
    agent.destroy()
    plainAgent.destroy()
    await client.close().catch(() => undefined)

    // (d) Every returned result has its record, the chain verifies, and the audit was closed last.
    const verified = await verifyAuditFile(join(dir, 'audit.jsonl'))
    assert.equal(verified.ok, true, JSON.stringify(verified))
    const records = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    const calls = records.filter((r) => r.type === 'tools.call')
    assert.ok(calls.some((r) => r.tool === 'ssm_run' && r.outcome === 'ok' && (r.detail as { argv0?: string }).argv0 === 'sleep'), 'the drained call is audited')
    for (const id of correlationIds) {
      const record = calls.find((r) => r.correlationId === id)
      assert.equal(record?.code, 'CANCELLED', `record for ${id}`)
    }
    assert.equal(records.at(-1)?.type, 'gateway.stop')
    t.diagnostic(`drain: done ${Math.round(finishedAfterMs)} ms, cancelled ${Math.round(cancelledAfterMs)} ms, exit ${Math.round(exitAfterMs)} ms after SIGTERM`)
  })
})
