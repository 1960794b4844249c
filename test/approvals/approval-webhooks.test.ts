import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { createApprovalService } from '../../src/approvals/approval-service.js'
import { createWebhookNotifier, webhookSignature } from '../../src/approvals/approval-webhooks.js'
import type { Principal } from '../../src/auth/principal.js'
import { createManualClock } from '../../src/clock.js'
import { gatewayConfigSchema } from '../../src/config.js'
import { hashArgs } from '../../src/mcp/hash-args.js'
import { createMemoryApprovalStore } from '../../src/state/memory-approval-store.js'
import { policyOf } from '../policy/policy-fixture.js'

const NOW = Date.parse('2026-12-01T12:00:00Z')
const SECRET = 'webhook-secret-for-tests'
const policy = policyOf({
  version: 1,
  grants: [{ id: 'restart', groups: ['sre'], tools: ['whoami'], approval: { approverGroups: ['sre-leads', 'security'] } }],
})
const bob: Principal = { issuer: 'https://idp.test', subject: 'bob', groups: ['sre'], expiresAt: NOW / 1000 + 600 }
const carol: Principal = { issuer: 'https://idp.test', subject: 'carol', groups: ['sre-leads'], expiresAt: NOW / 1000 + 600 }

interface Received {
  readonly body: string
  readonly signature: string | undefined
  readonly timestamp: string | undefined
}

const servers: Server[] = []
after(() => {
  for (const server of servers) server.close()
})

/** A receiver on 127.0.0.1 answering `statuses` in turn (then 200). */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
    req.on('end', () => {
      received.push({ body, signature: req.headers['x-airlock-signature'] as string | undefined, timestamp: req.headers['x-airlock-timestamp'] as string | undefined })
      res.writeHead(statuses.shift() ?? 200).end()
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received }
}

/** A URL on 127.0.0.1 where nothing listens. */
async function downUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/hook`
}

function setUp(hooks: { group: string; url: string }[]) {
  const clock = createManualClock(NOW)
  const delays: number[] = []
  const logged: { message: string; fields: Record<string, unknown> | undefined }[] = []
  const notifier = createWebhookNotifier({
    hooks: hooks.map((h) => ({ ...h, secret: SECRET })),
    clock,
    sleep: async (ms) => void delays.push(ms),
    retry: { attempts: 4, baseDelayMs: 1_000, maxDelayMs: 3_000, timeoutMs: 2_000 },
    logError: (message, _error, fields) => void logged.push({ message, fields }),
  })
  const service = createApprovalService({ store: createMemoryApprovalStore(), audit: { write: async () => undefined }, clock, notify: notifier.notify })
  const grant = policy.grants[0]
  assert.ok(grant !== undefined, 'the grant is built')
  const ask = (deployment: string) =>
    service.gate({ principal: bob, policy, grant, tool: 'whoami', connection: undefined, argsHash: hashArgs({ deployment }), args: { deployment }, reason: 'crash loop', correlationId: 'c0ffee' })
  return { notifier, service, ask, delays, logged }
}

describe('approval webhooks', () => {
  it('retries a failing hook with backoff until it accepts; the post is signed and carries a Slack text', async () => {
    const hook = await receiver([500, 503])
    const { notifier, ask, delays, logged } = setUp([{ group: 'sre-leads', url: hook.url }])
    const gate = await ask('payments')
    await notifier.idle()
    assert.equal(hook.received.length, 3, 'two failures, then delivered')
    assert.equal(delays.length, 2)
    assert.ok(delays[0] !== undefined && delays[0] >= 500 && delays[0] <= 1_000, `first backoff ${String(delays[0])}`)
    assert.ok(delays[1] !== undefined && delays[1] >= 1_000 && delays[1] <= 2_000, `second backoff ${String(delays[1])}`)
    assert.deepEqual(logged, [])
    const last = hook.received[2]
    assert.ok(last !== undefined, 'a delivery arrived')
    assert.equal(last.timestamp, String(NOW / 1000))
    assert.equal(last.signature, webhookSignature(SECRET, last.timestamp ?? '', last.body), 'HMAC-SHA256 over timestamp and body')
    assert.notEqual(last.signature, webhookSignature('another-secret', last.timestamp ?? '', last.body))
    const payload = JSON.parse(last.body) as { type: string; text: string; request: { id: string } }
    assert.equal(payload.type, 'approval.requested')
    assert.equal(payload.request.id, gate.record.id)
    assert.equal(payload.text, `bob asks sre-leads or security to approve whoami {"deployment":"payments"} (grant restart). Reason: "crash loop". Request ${gate.record.id} expires at 12:10 UTC; review it with \`airlock approvals list\`.`)
  })

  it('posts only to the hooks of the request\'s approver groups', async () => {
    const leads = await receiver([])
    const others = await receiver([])
    const { notifier, ask } = setUp([{ group: 'sre-leads', url: leads.url }, { group: 'dba-leads', url: others.url }])
    await ask('checkout')
    await notifier.idle()
    assert.equal(leads.received.length, 1)
    assert.equal(others.received.length, 0, 'dba-leads approve nothing here')
  })

  it('never blocks or loses the request when the hook is down: it gives up, logs, and the request is still approvable', async () => {
    const { notifier, service, ask, delays, logged } = setUp([{ group: 'sre-leads', url: await downUrl() }])
    const gate = await ask('payments')
    assert.equal(gate.run, false)
    assert.equal(gate.record.state, 'pending', 'the request exists before any delivery')
    const decided = await service.decide(carol, policy, gate.record.id, 'approve', 'seen on the dashboard instead')
    assert.equal(decided.state, 'approved', 'approvable while the hook is still being retried')
    await notifier.idle()
    assert.equal(delays.length, 3, 'four tries, three waits')
    assert.deepEqual(logged.map((l) => [l.message, l.fields]), [['approval webhook for group sre-leads gave up after 4 tries', { requestId: gate.record.id, group: 'sre-leads' }]])
  })
})

describe('approvals configuration', () => {
  const base = { issuer: 'https://idp.example.com', policy: ['policies/demo.json'], audit: { path: '/tmp/a.jsonl' } }

  it('defaults to no wait and no webhooks, and takes hooks per group', () => {
    assert.deepEqual(gatewayConfigSchema.parse(base).approvals, { waitSeconds: 0, webhooks: [] })
    const hooks = { waitSeconds: 120, webhooks: [{ group: 'sre-leads', url: 'https://hooks.example.com/T1/B2', secretFile: '/etc/airlock/hook-secret' }] }
    assert.deepEqual(gatewayConfigSchema.parse({ ...base, approvals: hooks }).approvals, hooks)
  })

  const invalid: [string, unknown][] = [
    ['a non-http webhook url', { webhooks: [{ group: 'g', url: 'ftp://x', secretFile: '/s' }] }],
    ['a webhook without its secret', { webhooks: [{ group: 'g', url: 'https://x.example.com' }] }],
    ['an unknown key', { webhooks: [], wait: 5 }],
    ['a wait over 10 minutes', { waitSeconds: 601 }],
  ]
  for (const [name, approvals] of invalid) {
    it(`rejects ${name}`, () => {
        assert.equal(gatewayConfigSchema.safeParse({ ...base, approvals }).success, false)
    })
  }
})
