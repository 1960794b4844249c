import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import type { DevIdentity } from '../../src/sandbox/oidc/dev-identities.js'

// The three investigations the README walks through, as an agent makes them: alice (orders),
// bob (pod and instance) and mallory (whoami and nothing else) find one incident from three sides.

const WEB1 = 'i-0a1b2c3d4e5f60001'
const PAYMENTS_POD = 'payments-5c8d7f9b4-x2k9p'

interface CallResult {
  content: { type: string; text?: string }[]
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

const text = (result: CallResult) => result.content.map((c) => c.text ?? '').join('')

describe('the sandbox incident, seen by alice, bob and mallory through the real MCP client', () => {
  let cwd: string
  let sandbox: Sandbox
  const clients: Client[] = []

  async function connect(user: DevIdentity): Promise<Client> {
    const token = await sandbox.idp.mintToken(user)
    const client = new Client({ name: 'incident-e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(sandbox.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
    clients.push(client)
    return client
  }
  const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallResult

  /** HH:MM of every payment failure alice finds in the orders database. */
  let failedMinutes = new Set<string>()

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'airlock-incident-'))
    sandbox = await startSandbox({ cwd, port: 0 })
  })
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()))
    await sandbox.close()
    await rm(cwd, { recursive: true, force: true })
  })

  it('alice finds a burst of failed payments in the last half hour', async () => {
    const alice = await connect('alice')
    const burst = await call(alice, 'sql_query', {
      connection: 'orders-db',
      sql: "SELECT id, total, created_at FROM orders WHERE status = 'payment_failed' ORDER BY created_at",
    })
    assert.equal(burst.isError, undefined, text(burst))
    const rows = (burst.structuredContent as { rows: unknown[][] }).rows
    assert.equal(rows.length, 18)
    failedMinutes = new Set(rows.map((row) => String(row[2]).slice(11, 16)))
    // One pair of failures per crash of payments: seconds apart, the crashes minutes apart (a pair
    // may straddle a minute boundary, so it is grouped by time, not by minute).
    const times = rows.map((row) => Date.parse(String(row[2]).replace(' ', 'T')))
    assert.ok(times.every(Number.isFinite), `created_at parses: ${rows.map((row) => String(row[2])).join(', ')}`)
    const crashes: number[][] = []
    for (const at of times) {
      const last = crashes.at(-1)
      if (last !== undefined && at - (last.at(-1) ?? at) < 60_000) last.push(at)
      else crashes.push([at])
    }
    assert.deepEqual(crashes.map((c) => c.length), Array(9).fill(2), 'one pair of failures per crash of payments')
    const plan = await call(alice, 'sql_query', { connection: 'orders-db', sql: "EXPLAIN SELECT * FROM orders WHERE status = 'payment_failed'" })
    assert.equal(plan.isError, undefined, `EXPLAIN of a read without masked columns is allowed: ${text(plan)}`)
    assert.match(text(plan), /Seq Scan on orders/)
  })

  it("alice sees card numbers only as the card detector's mask", async () => {
    const alice = await connect('alice')
    const cards = await call(alice, 'sql_query', { connection: 'orders-db', sql: 'SELECT id, name, card_number FROM customers WHERE card_number IS NOT NULL ORDER BY id LIMIT 5' })
    assert.equal(cards.isError, undefined, text(cards))
    const rows = (cards.structuredContent as { rows: unknown[][] }).rows
    assert.equal(rows.length, 5)
    for (const row of rows) assert.equal(row[2], '[redacted:card]', JSON.stringify(row))
    assert.doesNotMatch(JSON.stringify(cards), /4111/)
  })

  it('bob sees only what his grants allow, finds the crash-looping pod and why it crashed', async () => {
    const bob = await connect('bob')
    const kubectl = (await bob.listTools()).tools.find((t) => t.name === 'kubectl')
    const properties = kubectl?.inputSchema.properties as Record<string, { enum?: string[] }>
    assert.deepEqual(properties.verb?.enum, ['get', 'list', 'describe', 'logs', 'events', 'rollout-restart'], 'rollout-restart is offered: bob may ask for it, and it runs once an SRE lead approves')
    assert.deepEqual(properties.resource?.enum, ['pods', 'deployments', 'replicasets', 'services', 'configmaps', 'events', 'namespaces'])
    assert.ok(kubectl?.outputSchema !== undefined, 'kubectl declares its output schema (the client checks every result against it)')

    const pods = await call(bob, 'kubectl', { connection: 'demo-cluster', verb: 'list', resource: 'pods', namespace: 'shop' })
    assert.match(text(pods), new RegExp(`${PAYMENTS_POD}\\s+0/1\\s+CrashLoopBackOff\\s+8`))
    const previous = await call(bob, 'kubectl', { connection: 'demo-cluster', verb: 'logs', resource: 'pods', namespace: 'shop', name: PAYMENTS_POD, previous: true })
    assert.equal(previous.isError, undefined, text(previous))
    assert.match(text(previous), /password authentication failed for user "payments"/)
    assert.doesNotMatch(text(previous), /Pg-demo-2f9a/, 'the password in the logged connection string is redacted')

    const noName = await call(bob, 'kubectl', { connection: 'demo-cluster', verb: 'logs', resource: 'pods', namespace: 'shop' })
    assert.match(text(noName), /"logs" needs "name"; use verb "list" on resource "pods" in namespace "shop" to find names/)
  })

  it("bob reads web-1's nginx error log: upstream refusals to payments in the same minutes as the failed orders", async () => {
    const bob = await connect('bob')
    const errors = await call(bob, 'ssm_run', { connection: 'web-fleet', instance: WEB1, command: 'cat /var/log/nginx/error.log' })
    assert.equal(errors.isError, undefined, text(errors))
    const upstream = String(errors.structuredContent?.['stdout']).split('\n').filter((line) => line.includes('upstream: "http://10.0.2.117:8443/v1/charge"'))
    assert.equal(upstream.length, 18)
    assert.deepEqual(new Set(upstream.map((line) => line.slice(11, 16))), failedMinutes)
    const web2 = await call(bob, 'ssm_run', { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60002', command: 'tail -n 50 /var/log/nginx/error.log' })
    assert.doesNotMatch(String(web2.structuredContent?.['stdout']), /upstream/, 'web-2 does not proxy payments')
    const refused = await call(bob, 'ssm_run', { connection: 'web-fleet', instance: WEB1, command: 'tail -n 50 /etc/passwd' })
    assert.equal(refused.isError, true)
    assert.match(text(refused), /closest allowed command: `tail -n \{int\} \{path:\/var\/log\/\*\*\}`; word 4 \("\/etc\/passwd"\)/)
  })

  it('mallory learns who she is and that she holds no grants; nothing else answers her', async () => {
    const mallory = await connect('mallory')
    assert.deepEqual((await mallory.listTools()).tools.map((t) => t.name), ['whoami'])
    const me = await call(mallory, 'whoami', {})
    assert.equal(me.isError, undefined, text(me))
    assert.match(text(me), /^subject: mallory/)
    assert.match(text(me), /grants: none/)
    for (const [name, args] of [
      ['sql_query', { connection: 'orders-db', sql: 'SELECT 1' }],
      ['ssm_run', { connection: 'web-fleet', instance: WEB1, command: 'uptime' }],
      ['list_connections', {}],
    ] as const) {
      const denied = await call(mallory, name, args)
      assert.equal(denied.isError, true, name)
      assert.match(text(denied), /^\[POLICY_DENIED\] Access denied by policy\. You have no grant for tool /)
    }
  })
})
