import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import { runCli } from '../../src/cli/run-cli.js'
import { verifyAuditFile } from '../../src/audit/verify-audit.js'
import { DEV_IDENTITY_NAMES, type DevIdentity } from '../../src/sandbox/oidc/dev-identities.js'

describe('the sandbox: dev IdP → gateway (IRSA, no static keys) → AWS emulators', () => {
  let cwd: string
  let sandbox: Sandbox
  const gatewayLog: string[] = []
  const clients: Client[] = []

  async function connect(user: DevIdentity): Promise<Client> {
    const token = await sandbox.idp.mintToken(user)
    const client = new Client({ name: 'sandbox-e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(sandbox.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
    clients.push(client)
    return client
  }

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'airlock-sandbox-'))
    sandbox = await startSandbox({ cwd, port: 0, onGatewayLog: (line) => gatewayLog.push(line) })
  })
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()))
    await sandbox.close()
    await rm(cwd, { recursive: true, force: true })
  })

  it('gives alice, bob and mallory different tools', async () => {
    const names: Record<string, string[]> = {}
    for (const user of DEV_IDENTITY_NAMES) {
      names[user] = (await (await connect(user)).listTools()).tools.map((t) => t.name).sort()
    }
    assert.ok(names.alice?.includes('sql_query'), 'expected: names.alice?.includes(\'sql_query\')')
    assert.ok(!names.alice?.includes('ssm_run'), 'expected: !names.alice?.includes(\'ssm_run\')')
    assert.ok(names.bob?.includes('ssm_run'), 'expected: names.bob?.includes(\'ssm_run\')')
    assert.ok(!names.bob?.includes('sql_query'), 'expected: !names.bob?.includes(\'sql_query\')')
    assert.deepEqual(names.mallory, ['whoami'], 'mallory holds no grant: whoami, open to everyone, is all she sees')
  })

  it('alice reads the orders database with emails masked; a write is refused', async () => {
    const alice = await connect('alice')
    const result = await alice.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'SELECT id, name, email FROM customers ORDER BY id LIMIT 3' } })
    assert.equal(result.isError, undefined, JSON.stringify(result.content))
    const structured = result.structuredContent as { rows: unknown[][]; rowCount: number }
    assert.equal(structured.rowCount, 3)
    assert.ok(!JSON.stringify(structured).includes('@'), 'emails are masked')
    const write = await alice.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'DELETE FROM customers' } })
    assert.equal(write.isError, true)
    assert.match(JSON.stringify(write.content), /SQL_NOT_READ_ONLY/)
  })

  it('bob runs an allowed command on web-1 and is refused anything else', async () => {
    const bob = await connect('bob')
    const ok = await bob.callTool({ name: 'ssm_run', arguments: { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60001', command: 'uptime' } })
    assert.equal(ok.isError, undefined, JSON.stringify(ok.content))
    assert.equal((ok.structuredContent as { exitCode: number }).exitCode, 0)
    const before = sandbox.ssm.executions().length
    const escape = await bob.callTool({ name: 'ssm_run', arguments: { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60001', command: 'uptime; cat /etc/shadow' } })
    assert.equal(escape.isError, true)
    assert.equal(sandbox.ssm.executions().length, before, 'nothing reached an instance')
  })

  it('signs every AWS call with the IRSA role session; no static key exists anywhere', async () => {
    const trail = sandbox.trail.entries()
    const dataCalls = trail.filter((e) => e.service !== 'sts')
    assert.ok(dataCalls.length > 0, 'expected: dataCalls.length > 0')
    for (const entry of dataCalls) {
      assert.match(entry.principalArn, /^arn:aws:sts::111122223333:assumed-role\//)
      assert.match(entry.accessKeyId, /^ASIA/)
    }
    assert.ok(trail.some((e) => e.service === 'sts' && e.action === 'AssumeRoleWithWebIdentity' && e.outcome === 'ok'), 'expected: trail.some((e) => e.service === \'sts\' && e.action === \'AssumeRoleWithWebIdentity\' && e.outcome ==...')
    // orders-db names a per-connection role: the gateway assumed it as itself, tagged with alice's identity.
    const sql = dataCalls.filter((e) => e.service === 'rds-data')
    assert.ok(sql.length > 0, 'expected: sql.length > 0')
    for (const entry of sql) {
      assert.equal(entry.principalArn, 'arn:aws:sts::111122223333:assumed-role/airlock-orders-access/airlock-alice')
      assert.equal(entry.sourceIdentity, 'alice')
    }
    const ssm = dataCalls.filter((e) => e.service === 'ssm')
    assert.ok(ssm.length > 0, 'expected: ssm.length > 0')
    for (const entry of ssm) assert.equal(entry.principalArn, 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock-gateway')
    const config = await readFile(sandbox.paths.config, 'utf8')
    assert.doesNotMatch(config, /AKIA|ASIA|secretAccessKey/i)
  })

  it('prints a fresh token alone on stdout with `airlock token`', async () => {
    let out = ''
    const code = await runCli(['token', 'bob'], { stdout: (t) => (out += t), stderr: () => {}, cwd, env: {} })
    assert.equal(code, 0)
    assert.match(out.trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/)
  })

  it('prints the AWS call trail with the identity behind each call', async () => {
    let out = ''
    const code = await runCli(['sandbox', 'trail'], { stdout: (t) => (out += t), stderr: () => {}, cwd, env: {} })
    assert.equal(code, 0)
    assert.match(out, /rds-data:ExecuteStatement {2}ok {2}by arn:aws:sts::111122223333:assumed-role\/airlock-orders-access\/airlock-alice {2}source-identity=alice/)
    assert.match(out, /sts:AssumeRoleWithWebIdentity {2}ok/)
  })

  it('keeps a verifiable audit trail of what happened', async () => {
    const result = await verifyAuditFile(sandbox.paths.audit)
    assert.equal(result.ok, true)
    const audit = await readFile(sandbox.paths.audit, 'utf8')
    assert.match(audit, /"tool":"sql_query"[^\n]*"grantId":"dba-orders-read"/)
  })
})
