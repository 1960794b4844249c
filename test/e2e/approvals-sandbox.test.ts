import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { runCli } from '../../src/cli/run-cli.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import { APPROVAL_REQUEST_META_KEY } from '../../src/mcp/call-tool.js'
import type { DevIdentity } from '../../src/sandbox/oidc/dev-identities.js'

// The sandbox walkthrough of the README, with an agent on each side: bob's agent asks to restart
// payments, carol (sre-leads) reviews through her own agent and on the command line.

type ToolResult = { isError?: boolean; content: unknown; _meta?: Record<string, unknown>; structuredContent?: Record<string, unknown> }

describe('approvals in the sandbox: bob asks, carol approves', () => {
  let cwd: string
  let sandbox: Sandbox
  const clients: Client[] = []

  async function connect(user: DevIdentity): Promise<Client> {
    const token = await sandbox.idp.mintToken(user)
    const client = new Client({ name: 'approvals-e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(sandbox.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
    clients.push(client)
    return client
  }

  async function cli(argv: string[], user: DevIdentity): Promise<{ code: number; out: string; err: string }> {
    let out = ''
    let err = ''
    const code = await runCli(['approvals', ...argv], {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      cwd,
      env: { AIRLOCK_ADMIN_URL: sandbox.adminUrl, AIRLOCK_TOKEN: await sandbox.idp.mintToken(user) },
    })
    return { code, out, err }
  }

  const restart = { connection: 'demo-cluster', verb: 'rollout-restart', resource: 'deployments', namespace: 'shop', name: 'payments', approvalReason: 'payments is crash-looping; a restart picks up the fixed secret' }

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'airlock-approvals-'))
    sandbox = await startSandbox({ cwd, port: 0 })
  })
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()))
    await sandbox.close()
    await rm(cwd, { recursive: true, force: true })
  })

  it('lists the review tools to carol only', async () => {
    const carolTools = (await (await connect('carol')).listTools()).tools.map((t) => t.name).sort()
    assert.deepEqual(carolTools, ['list_requests', 'review_request', 'whoami'], 'carol holds only the approver grant, and whoami is open to everyone')
    const bobTools = (await (await connect('bob')).listTools()).tools.map((t) => t.name)
    assert.ok(!bobTools.includes('review_request'), 'bob cannot review')
  })

  it('bob waits, carol approves through her agent, bob\'s same call runs once', async () => {
    const bob = await connect('bob')
    const carol = await connect('carol')
    const pending = (await bob.callTool({ name: 'kubectl', arguments: restart })) as ToolResult
    assert.equal(pending.isError, true)
    assert.match(JSON.stringify(pending.content), /APPROVAL_PENDING/)
    const id = pending._meta?.[APPROVAL_REQUEST_META_KEY]
    assert.ok(typeof id === 'string', 'the request id is in _meta')
    const other = (await bob.callTool({ name: 'kubectl', arguments: { ...restart, name: 'checkout' } })) as ToolResult
    assert.match(JSON.stringify(other.content), /K8S_NOT_ALLOWED/, 'checkout is not payments: no approval can make it run')

    const listed = (await carol.callTool({ name: 'list_requests', arguments: {} })) as ToolResult
    assert.match(JSON.stringify(listed.content), new RegExp(`${id}: bob wants kubectl on demo-cluster`))
    const selfReview = (await bob.callTool({ name: 'review_request', arguments: { id, decision: 'approve', reason: 'me' } })) as ToolResult
    assert.equal(selfReview.isError, true, 'bob cannot approve his own request')
    const approved = (await carol.callTool({ name: 'review_request', arguments: { id, decision: 'approve', reason: 'checked the pods: the secret is fixed' } })) as ToolResult
    assert.equal(approved.isError, undefined, JSON.stringify(approved.content))

    const ran = (await bob.callTool({ name: 'kubectl', arguments: restart })) as ToolResult
    assert.equal(ran.isError, undefined, JSON.stringify(ran.content))
    const again = (await bob.callTool({ name: 'kubectl', arguments: restart })) as ToolResult
    assert.match(JSON.stringify(again.content), /APPROVAL_PENDING/, 'the approval bought one restart')
    assert.notEqual(again._meta?.[APPROVAL_REQUEST_META_KEY], id)
  })

  it('carol denies on the command line; bob\'s call stays denied; bob cannot decide his own', async () => {
    const bob = await connect('bob')
    const listed = await cli(['list'], 'carol')
    assert.equal(listed.code, 0, listed.err)
    const id = /^(\S+): bob wants kubectl/m.exec(listed.out)?.[1]
    assert.ok(id !== undefined, `a request in ${listed.out}`)
    const own = await cli(['approve', id, '--reason', 'mine'], 'bob')
    assert.equal(own.code, 1, 'bob is no approver')
    const denied = await cli(['deny', id, '--reason', 'not during the payments freeze'], 'carol')
    assert.equal(denied.code, 0, denied.err)
    const result = (await bob.callTool({ name: 'kubectl', arguments: restart })) as ToolResult
    assert.match(JSON.stringify(result.content), /APPROVAL_DENIED.*not during the payments freeze/)
  })

  it('records every transition in the audit with both identities', async () => {
    const records = (await readFile(sandbox.paths.audit, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('"approval.'))
      .map((l) => JSON.parse(l) as { type: string; actor: { sub: string }; argsHash: string; detail: { requester: { sub: string }; approver?: { sub: string } } })
    const types = records.map((r) => `${r.type}:${r.actor.sub}`)
    for (const expected of ['approval.requested:bob', 'approval.approved:carol', 'approval.used:bob', 'approval.denied:carol']) {
      assert.ok(types.includes(expected), `${expected} in ${types.join(', ')}`)
    }
    for (const r of records) {
      assert.equal(r.detail.requester.sub, 'bob')
      assert.match(r.argsHash, /^[0-9a-f]{64}$/)
      if (r.type === 'approval.approved' || r.type === 'approval.denied' || r.type === 'approval.used') assert.equal(r.detail.approver?.sub, 'carol')
    }
  })
})
