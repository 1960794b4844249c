import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client'
import pg from 'pg'
import { runCli } from '../../src/cli/run-cli.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import { CORRELATION_META_KEY } from '../../src/mcp/call-record.js'
import { createTeardown } from '../support/teardown.js'

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test'
const REDIS_URL = 'redis://127.0.0.1:6379'
const BOB_CALLS_PER_MINUTE = 6
const LOAD_CLIENTS = 16

const teardown = createTeardown()
after(() => teardown.run())

/** What the test needs of either SDK's client. */
interface AnyClient {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<Record<string, unknown>>
  close(): Promise<void>
}

function wrap(client: Client | ModernClient): AnyClient {
  return { callTool: async (params) => ({ ...(await client.callTool(params)) }), close: () => client.close() }
}

function correlationIdOf(result: Record<string, unknown>): string | undefined {
  const meta = result._meta
  if (typeof meta !== 'object' || meta === null) return undefined
  const id = Object.entries(meta).find(([key]) => key === CORRELATION_META_KEY)?.[1]
  return typeof id === 'string' ? id : undefined
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) await sleep(50)
}

function textOf(result: Record<string, unknown>): string {
  return JSON.stringify(result.content)
}

/**
 * The sandbox run as a cluster: two gateway processes on the machine's Redis (sessions,
 * activations, limits) and PostgreSQL (one audit chain) behind the round-robin balancer.
 */
describe('two replicas behind a balancer, sharing Redis and a PostgreSQL audit', () => {
  let sandbox: Sandbox
  let auditTable: string
  const clients: AnyClient[] = []

  async function legacyClient(user: 'alice' | 'bob'): Promise<AnyClient> {
    const client = new Client({ name: 'replicas-e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(sandbox.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${await sandbox.idp.mintToken(user)}` } } }))
    const wrapped = wrap(client)
    clients.push(wrapped)
    return wrapped
  }

  async function modernClient(user: 'alice' | 'bob'): Promise<AnyClient> {
    const client = new ModernClient({ name: 'replicas-e2e-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
    await client.connect(new ModernTransport(new URL(sandbox.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${await sandbox.idp.mintToken(user)}` } } }))
    const wrapped = wrap(client)
    clients.push(wrapped)
    return wrapped
  }

  before(async () => {
    const suffix = randomBytes(4).toString('hex')
    auditTable = `airlock_replicas_${suffix}`
    const cwd = await mkdtemp(join(tmpdir(), 'airlock-replicas-'))
    teardown.add(() => rm(cwd, { recursive: true, force: true }))
    // The demo policy, with a calls-per-minute limit on bob's command grant.
    const demo = JSON.parse(await readFile(new URL('../../policies/demo.json', import.meta.url), 'utf8')) as { grants: Array<Record<string, unknown>> }
    for (const grant of demo.grants) if (grant.id === 'sre-web-commands') grant.limits = { callsPerMinute: BOB_CALLS_PER_MINUTE }
    const policyPath = join(cwd, 'policy.json')
    await writeFile(policyPath, JSON.stringify(demo))
    teardown.add(async () => {
      const db = new pg.Client({ connectionString: POSTGRES_URL })
      await db.connect()
      // The trail is append-only by trigger: dropping the tables is the only way to clean up.
      await db.query(`DROP TABLE IF EXISTS public.${auditTable}, public.${auditTable}_checkpoints CASCADE`)
      await db.end()
    })
    sandbox = await startSandbox({
      cwd,
      port: 0,
      policyFiles: [policyPath],
      cluster: { replicas: 2, redisUrl: REDIS_URL, postgresUrl: POSTGRES_URL, auditTable, keyPrefix: `airlock-test-${suffix}:` },
    })
    teardown.add(async () => {
      await Promise.allSettled(clients.map((c) => c.close()))
      await sandbox.close()
    })
  })

  it('continues a 2025-lane session through either replica: consecutive requests alternate', async () => {
    const before = [...(sandbox.balancer?.served ?? [])]
    const client = await legacyClient('alice')
    for (let i = 0; i < 6; i++) {
      const result = await client.callTool({ name: 'whoami', arguments: {} })
      assert.equal(result.isError, undefined, textOf(result))
    }
    const served = sandbox.balancer?.served ?? []
    for (const [i, count] of served.entries()) assert.ok(count - (before[i] ?? 0) >= 3, `replica ${i + 1} answered requests of the one session`)
  })

  it('serves the 2026-07-28 lane through either replica', async () => {
    const before = [...(sandbox.balancer?.served ?? [])]
    const client = await modernClient('alice')
    for (let i = 0; i < 4; i++) {
      const result = await client.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'SELECT 1 AS one' } })
      assert.equal(result.isError, undefined, textOf(result))
    }
    for (const [i, count] of (sandbox.balancer?.served ?? []).entries()) assert.ok(count - (before[i] ?? 0) >= 2, `replica ${i + 1} served modern calls`)
  })

  it(`holds a limit of ${BOB_CALLS_PER_MINUTE} calls per minute across both replicas, on both lanes`, async () => {
    const legacy = await legacyClient('bob')
    const modern = await modernClient('bob')
    const outcomes: string[] = []
    for (let i = 0; i < BOB_CALLS_PER_MINUTE + 4; i++) {
      const client = i % 2 === 0 ? legacy : modern
      const result = await client.callTool({ name: 'ssm_run', arguments: { connection: 'web-fleet', instance: 'web-1', command: 'uptime' } })
      outcomes.push(result.isError === true ? (/\[(\w+)\]/.exec(textOf(result))?.[1] ?? 'error') : 'ok')
    }
    assert.equal(outcomes.filter((o) => o === 'ok').length, BOB_CALLS_PER_MINUTE, outcomes.join(' '))
    assert.deepEqual(outcomes.slice(BOB_CALLS_PER_MINUTE), Array(4).fill('RATE_LIMITED'))
  })

  it(`keeps serving ${LOAD_CLIENTS} clients when one replica is killed, and every returned result has its audit record`, async () => {
    const loadClients = await Promise.all(Array.from({ length: LOAD_CLIENTS }, (_, i) => (i % 2 === 0 ? modernClient('alice') : legacyClient('alice'))))
    const returned: string[] = []
    let failures = 0
    let afterKill = 0
    let killed = false
    let running = true
    const loops = loadClients.map(async (client) => {
      while (running) {
        try {
          // whoami: the sandbox's Data API emulator serialises transactions on one in-process
          // database, so a transaction left open by the killed replica would stall every later query.
          const result = await client.callTool({ name: 'whoami', arguments: {} })
          const id = correlationIdOf(result)
          assert.ok(id !== undefined, `every result names its correlation id: ${textOf(result)}`)
          if (result.isError === true) failures++
          else {
            returned.push(id)
            if (killed) afterKill++
          }
        } catch {
          // A request in flight on the killed replica fails (the balancer answers 502): no result, nothing to audit.
          failures++
        }
      }
    })
    // Load is flowing through both replicas before one dies; then the other has to carry it.
    await until(() => returned.length >= LOAD_CLIENTS, 30_000)
    const victim = sandbox.replicas[0]?.process
    assert.ok(victim !== undefined, 'a replica to kill')
    victim.kill('SIGKILL')
    killed = true
    await until(() => afterKill >= 2 * LOAD_CLIENTS, 30_000)
    running = false
    await Promise.all(loops)

    assert.ok(afterKill >= 2 * LOAD_CLIENTS, `clients kept getting results through the surviving replica (${afterKill} after the kill, ${failures} failed)`)
    const db = new pg.Client({ connectionString: POSTGRES_URL })
    await db.connect()
    try {
      const rows = await db.query<{ correlation_id: string }>(`SELECT correlation_id FROM public.${auditTable} WHERE type = 'tools.call' AND correlation_id = ANY($1)`, [returned])
      const recorded = new Set(rows.rows.map((r) => r.correlation_id))
      const missing = returned.filter((id) => !recorded.has(id))
      assert.deepEqual(missing, [], `${returned.length} results returned; these have no audit record`)
    } finally {
      await db.end()
    }
  })

  it('leaves a PostgreSQL audit chain that verifies', async () => {
    let out = ''
    let err = ''
    const code = await runCli(['audit', 'verify', '--postgres', POSTGRES_URL, '--table', auditTable], { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: tmpdir(), env: {} })
    assert.equal(code, 0, `${out}\n${err}`)
    assert.match(out, /ok|verified/i)
  })
})
