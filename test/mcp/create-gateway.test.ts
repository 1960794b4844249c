import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { z } from 'zod'
import type { AuditEvent } from '../../src/audit/audit-event.js'
import type { Principal } from '../../src/auth/principal.js'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { createManualClock } from '../../src/clock.js'
import { AuthError, UpstreamError } from '../../src/errors.js'
import { createGateway, type Gateway } from '../../src/mcp/create-gateway.js'
import { buildPolicy } from '../../src/policy/build-policy.js'
import type { Policy } from '../../src/policy/policy.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import { defineTool, type AnyToolDefinition } from '../../tools/define-tool.js'

const ISSUER = 'https://idp.test'
const NOW = Date.parse('2026-11-29T12:00:00Z')

function policyWithGrant(grantId: string): Policy {
  const built = buildPolicy([{ source: `${grantId}.json`, data: { version: 1, grants: [{ id: grantId, groups: ['ops'], tools: ['probe'] }] } }])
  assert.ok(built.ok, 'expected: built.ok')
  return built.policy
}

/** Reports what its handler was given: whose call it is and which policy and grant it runs under. */
function probeTool(gate: { wait: Promise<void>; entered: () => void }): AnyToolDefinition {
  return defineTool({
    name: 'probe',
    title: 'Probe',
    description: 'Reports its context.',
    connectionKinds: [],
    input: { hold: z.boolean().optional() },
    annotations: () => ({ readOnlyHint: true, destructiveHint: false }),
    async handler(ctx) {
      if (ctx.args.hold === true) {
        gate.entered()
        await gate.wait
      }
      const structured = {
        subject: ctx.principal.subject,
        groups: [...ctx.principal.groups],
        grantId: ctx.grant.id,
        policyGrantIds: ctx.policy.grants.map((g) => g.id),
        grantBelongsToPolicy: ctx.policy.grants.includes(ctx.grant),
        policyFingerprint: ctx.policy.fingerprint,
      }
      return { text: JSON.stringify(structured), structured }
    },
  }) as AnyToolDefinition
}

/** Bearer tokens in these tests read `subject:group,group`; verification itself is tested in test/auth. */
async function authenticate(authorization: string | undefined): Promise<Principal> {
  const match = /^Bearer ([a-z]+):([a-z,]*)$/.exec(authorization ?? '')
  if (match === null) throw new AuthError('AUTH_MISSING', 'missing', 'no test token')
  return { issuer: ISSUER, subject: match[1] ?? '', groups: (match[2] ?? '').split(',').filter((g) => g !== ''), expiresAt: NOW / 1000 + 3600, issuedAt: NOW / 1000 }
}

interface Harness {
  readonly url: URL
  readonly events: AuditEvent[]
  /** POST requests to /mcp so far (each carries MCP messages; GET and DELETE serve none). */
  mcpPosts(): number
  connect(token: string, sessionId?: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }>
  close(): Promise<void>
}

async function startGatewayHarness(policy: () => Policy, tools: readonly AnyToolDefinition[]): Promise<Harness> {
  const events: AuditEvent[] = []
  const clock = createManualClock(NOW)
  const http: Server = createServer()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  const resource = `http://127.0.0.1:${port}/mcp`
  const gateway: Gateway = createGateway({
    resourceMetadata: () => ({ resource }),
    allowedHosts: [`127.0.0.1:${port}`],
    allowedOrigins: [],
    authenticate,
    challenge: () => ({ header: 'Bearer', body: { error: 'unauthorized' } }),
    tools,
    policy,
    deps: createToolDeps({
      aws: createAwsClients({
        credentials: async () => {
          throw new UpstreamError('AWS_CREDENTIALS', 'no AWS in these tests')
        },
      }),
      clock,
    }),
    audit: { write: async (event) => void events.push(event) },
    clock,
    redactArgs: (args) => args,
    sessions: { idleTimeoutSeconds: 600, maxPerSubject: 10, maxTotal: 100 },
    logError: () => undefined,
  })
  let mcpPosts = 0
  http.on('request', (req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/mcp') === true) mcpPosts++
    gateway.handler(req, res)
  })
  const clients: Client[] = []
  return {
    url: new URL(resource),
    events,
    mcpPosts: () => mcpPosts,
    async connect(token, sessionId) {
      const client = new Client({ name: 'create-gateway-test', version: '1.0.0' })
      const transport = new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
        ...(sessionId === undefined ? {} : { sessionId }),
      })
      await client.connect(transport)
      clients.push(client)
      return { client, transport }
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()))
      await gateway.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

function structuredOf(result: unknown): Record<string, unknown> {
  return z.object({ structuredContent: z.record(z.string(), z.unknown()) }).parse(result).structuredContent
}

describe('createGateway: one policy snapshot per HTTP request', () => {
  const a = policyWithGrant('grant-a')
  const b = policyWithGrant('grant-b')
  let reads = 0
  let current = a
  let lastRead = a
  let harness: Harness

  before(async () => {
    // Every read is followed by a reload: a second read in the same request sees the other policy.
    const policy = () => {
      reads++
      const read = current
      lastRead = read
      current = current === a ? b : a
      return read
    }
    harness = await startGatewayHarness(policy, [probeTool({ wait: Promise.resolve(), entered: () => undefined })])
  })
  after(() => harness.close())

  test('a reload between the decision and the tool run cannot change the policy the tool sees', async () => {
    const { client } = await harness.connect('alice:ops')
    for (let i = 0; i < 4; i++) {
      const readsBefore = reads
      const result = await client.callTool({ name: 'probe', arguments: {} })
      const seen = structuredOf(result)
      assert.equal(seen.grantBelongsToPolicy, true, 'the grant the tool got belongs to the policy the tool got')
      assert.equal(reads - readsBefore, 1, 'the policy is read once per tools/call request')
      const record = harness.events.filter((e) => e.type === 'tools.call').at(-1)
      assert.equal(record?.grantId, seen.grantId, 'the audited decision is the one the tool ran under')
      assert.equal(record?.policyFingerprint, seen.policyFingerprint, 'the record names the policy the tool ran under')
      assert.deepEqual(seen.policyGrantIds, [seen.grantId])
    }
    // Alternating snapshots: both policies were in force at some point, each call consistent with its own.
    const granted = new Set(harness.events.filter((e) => e.type === 'tools.call').map((e) => e.grantId))
    assert.deepEqual([...granted].sort(), ['grant-a', 'grant-b'])
    assert.notEqual(a.fingerprint, b.fingerprint)
    const fingerprints = new Set(harness.events.filter((e) => e.type === 'tools.call').map((e) => e.policyFingerprint))
    assert.deepEqual([...fingerprints].sort(), [a.fingerprint, b.fingerprint].sort())
  })

  test('every MCP request reads the policy exactly once, the initialize that opens the session included', async () => {
    const [readsBefore, postsBefore] = [reads, harness.mcpPosts()]
    const { client } = await harness.connect('alice:ops')
    await client.listTools()
    await client.callTool({ name: 'probe', arguments: {} })
    const posts = harness.mcpPosts() - postsBefore
    assert.equal(posts, 4, 'initialize, notifications/initialized, tools/list and tools/call')
    assert.equal(reads - readsBefore, posts)
  })

  test('tools/list reads the policy once per request too', async () => {
    const { client } = await harness.connect('alice:ops')
    const readsBefore = reads
    const listed = await client.listTools()
    assert.equal(reads - readsBefore, 1)
    assert.deepEqual(listed.tools.map((t) => t.name), ['probe'])
    const record = harness.events.at(-1)
    assert.deepEqual([record?.type, record?.policyFingerprint], ['tools.list', lastRead.fingerprint])
  })
})

describe('createGateway: each request runs as the principal verified for it', () => {
  let release: () => void = () => undefined
  let entered: () => void = () => undefined
  const wait = new Promise<void>((resolve) => {
    release = resolve
  })
  const inside = new Promise<void>((resolve) => {
    entered = resolve
  })
  let harness: Harness

  before(async () => {
    harness = await startGatewayHarness(() => policyWithGrant('ops-probe'), [probeTool({ wait, entered: () => entered() })])
  })
  after(() => harness.close())

  test('interleaved calls on one session with different tokens, and another subject in between', async () => {
    const first = await harness.connect('alice:ops,first')
    const sessionId = first.transport.sessionId
    assert.ok(sessionId !== undefined, 'expected: sessionId !== undefined')
    // Same session, a refreshed token with other groups: allowed, since sessions bind issuer and subject.
    const second = await harness.connect('alice:ops,second', sessionId)
    const bob = await harness.connect('bob:ops')

    const held = first.client.callTool({ name: 'probe', arguments: { hold: true } })
    await inside
    const fromSecond = structuredOf(await second.client.callTool({ name: 'probe', arguments: {} }))
    const fromBob = structuredOf(await bob.client.callTool({ name: 'probe', arguments: {} }))
    const bobList = await bob.client.listTools()
    release()
    const fromFirst = structuredOf(await held)

    assert.deepEqual([fromFirst.subject, fromFirst.groups], ['alice', ['ops', 'first']])
    assert.deepEqual([fromSecond.subject, fromSecond.groups], ['alice', ['ops', 'second']])
    assert.deepEqual([fromBob.subject, fromBob.groups], ['bob', ['ops']])
    assert.deepEqual(bobList.tools.map((t) => t.name), ['probe'])

    const calls = harness.events.filter((e) => e.type === 'tools.call').map((e) => [e.actor?.sub, e.actor?.groups])
    assert.deepEqual(calls, [
      ['alice', ['ops', 'second']],
      ['bob', ['ops']],
      ['alice', ['ops', 'first']],
    ])
    const lists = harness.events.filter((e) => e.type === 'tools.list').map((e) => e.actor?.sub)
    assert.deepEqual(lists, ['bob'])
  })

  test('a caller whose token lacks the group sees no tool and is denied, while the holder is allowed', async () => {
    const outsider = await harness.connect('carol:guests')
    assert.deepEqual((await outsider.client.listTools()).tools, [])
    const denied = await outsider.client.callTool({ name: 'probe', arguments: {} })
    assert.equal(denied.isError, true)
    const record = harness.events.filter((e) => e.type === 'tools.call').at(-1)
    assert.deepEqual([record?.actor?.sub, record?.decision, record?.reason], ['carol', 'deny', 'NO_GRANT'])
    assert.equal(record?.policyFingerprint, policyWithGrant('ops-probe').fingerprint, 'denials name the policy too')
  })
})
