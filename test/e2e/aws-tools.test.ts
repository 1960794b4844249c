import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { systemClock } from '../../src/clock.js'
import { startEksEmulator, type EksEmulator } from '../../src/sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer, type KubeApiServer } from '../../src/sandbox/kube-api/kube-api-server.js'
import { createPgBackend } from '../../src/sandbox/rds-data/pg-backend.js'
import { startRdsDataEmulator, type RdsDataEmulator } from '../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { DEMO_INSTANCES } from '../../src/sandbox/ssm/ssm-fleet.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { HANG, startFaultProxy, type FaultProxy } from '../support/fault-proxy.js'
import { startE2E, type E2E } from './support/start-e2e.js'

const ACCOUNT = '111122223333'
const CLUSTER_ARN = `arn:aws:rds:us-east-1:${ACCOUNT}:cluster:e2e-orders`
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:e2e-orders-Ab12Cd`
const GATEWAY_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/airlock-gateway/e2e`
const credentials = { accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(40).toString('base64') }
const table = `e2e_orders_${randomBytes(4).toString('hex')}`
const databaseUrl = 'postgres://postgres@127.0.0.1:5432/test'

type ToolResult = { isError?: boolean | undefined; content: unknown; structuredContent?: Record<string, unknown> | undefined }

describe('sql_query, ssm_run and kubectl through the MCP client, the gateway and the AWS emulators', () => {
  const store = createCredentialStore([{ ...credentials, principalArn: GATEWAY_SESSION }])
  const trail = createTrail(systemClock)
  const backend = createPgBackend({ connectionString: databaseUrl })
  const db = new pg.Client({ connectionString: databaseUrl })
  let rds: RdsDataEmulator
  let ssm: SsmEmulator
  /** In front of SSM; passes everything through unless a test injects a fault. */
  let ssmProxy: FaultProxy
  let kube: KubeApiServer
  let eks: EksEmulator
  let e2e: E2E
  const calls = (service: string) => trail.entries().filter((e) => e.service === service).length

  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, customer text NOT NULL, email text, total numeric(10,2))`)
    await db.query(`INSERT INTO ${table} VALUES (1, 'ada', 'ada@example.com', 10.50), (2, 'bob', 'bob@example.org', 3.00), (3, 'cy', NULL, 7.25)`)
    rds = await startRdsDataEmulator({ store, trail, clock: systemClock, clusters: [{ resourceArn: CLUSTER_ARN, secrets: { [SECRET_ARN]: { backend } } }] })
    ssm = await startSsmEmulator({ store, trail, clock: systemClock, instances: DEMO_INSTANCES })
    ssmProxy = await startFaultProxy(ssm.endpoint)
    kube = await startKubeApiServer({
      store,
      clock: systemClock,
      clusterName: 'e2e',
      region: 'us-east-1',
      mappings: [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/airlock-gateway`, username: 'airlock', groups: [], rules: [{ verbs: ['get', 'list'], resources: ['*'], namespaces: ['*'] }] }],
    })
    eks = await startEksEmulator({ store, trail, clock: systemClock, clusters: [{ name: 'e2e', region: 'us-east-1', endpoint: kube.url, caPem: kube.caPem }] })
    const rdsConnection = { kind: 'rds-data', region: 'us-east-1', engine: 'postgres', database: 'test', resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN }
    e2e = await startE2E({
      // The EKS token is presigned with the gateway's clock and checked against the stand-in's real one.
      startMs: systemClock.now(),
      awsCredentials: async () => credentials,
      config: { awsEndpoints: { rdsData: rds.endpoint, ssm: ssmProxy.url, eks: eks.endpoint } },
      policy: {
        version: 1,
        connections: {
          orders: rdsConnection,
          'other-db': { ...rdsConnection, database: 'other' },
          web: { kind: 'ssm', region: 'us-east-1', instanceIds: ['i-0a1b2c3d4e5f60001'] },
          cluster: { kind: 'eks', region: 'us-east-1', cluster: 'e2e' },
        },
        grants: [
          { id: 'dba-read', groups: ['dba'], connections: ['orders'], tools: ['sql_query'], sql: { mode: 'read-only', maxRows: 2, maskColumns: { '*.email': 'redact' } } },
          { id: 'analyst-write', groups: ['analysts'], connections: ['orders', 'other-db'], tools: ['sql_query'], sql: { mode: 'read-write' } },
          { id: 'sre-ops', groups: ['sre'], connections: ['web', 'cluster'], tools: ['ssm_run', 'kubectl'], ssm: { commands: [['uptime'], ['echo', '{word}'], ['sleep', '{int:1-30}']] }, kubectl: { verbs: ['get', 'list'], resources: ['pods'], namespaces: ['shop'] } },
        ],
      },
    })
  })
  after(async () => {
    await e2e.close()
    await Promise.allSettled([rds.close(), ssmProxy.close(), ssm.close(), eks.close(), kube.close()])
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
    await backend.close()
  })

  const call = async (sub: string, groups: string[], name: string, args: Record<string, unknown>): Promise<ToolResult> => {
    const { client } = await e2e.connect(await e2e.token(sub, groups))
    return (await client.callTool({ name, arguments: args })) as ToolResult
  }

  it('lists each tool with exactly the caller’s connections and annotations from the grant', async () => {
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    const sql = (await client.listTools()).tools.find((t) => t.name === 'sql_query')
    assert.deepEqual((sql?.inputSchema.properties as Record<string, { enum?: string[] }>).connection?.enum, ['orders'])
    assert.equal(sql?.annotations?.readOnlyHint, true)
    const analyst = await e2e.connect(await e2e.token('carol', ['analysts']))
    const write = (await analyst.client.listTools()).tools.find((t) => t.name === 'sql_query')
    assert.deepEqual((write?.inputSchema.properties as Record<string, { enum?: string[] }>).connection?.enum, ['orders', 'other-db'])
    assert.equal(write?.annotations?.destructiveHint, true)
  })

  it('reads with the row cap and masking, binding parameters as data', async () => {
    const read = await call('alice', ['dba'], 'sql_query', { connection: 'orders', sql: `SELECT id, customer, email FROM ${table} ORDER BY id` })
    assert.equal(read.isError, undefined, JSON.stringify(read.content))
    assert.equal(read.structuredContent?.truncated, true)
    assert.equal(read.structuredContent?.rowCount, 2)
    assert.ok(!JSON.stringify(read.structuredContent).includes('@example'), 'expected: !JSON.stringify(read.structuredContent).includes(\'@example\')')
    const injection = `x'); DROP TABLE ${table}; --`
    const bound = await call('alice', ['dba'], 'sql_query', { connection: 'orders', sql: 'SELECT :v::text AS v', parameters: { v: injection } })
    assert.deepEqual((bound.structuredContent?.rows as unknown[][])[0], [injection])
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 3)
  })

  it('performs DML only under a read-write grant', async () => {
    const refused = await call('alice', ['dba'], 'sql_query', { connection: 'orders', sql: `UPDATE ${table} SET total = 0` })
    assert.match(JSON.stringify(refused.content), /SQL_NOT_READ_ONLY/)
    const written = await call('carol', ['analysts'], 'sql_query', { connection: 'orders', sql: `INSERT INTO ${table} VALUES (4, 'dee', NULL, 1.00)` })
    assert.equal(written.isError, undefined, JSON.stringify(written.content))
    assert.equal(written.structuredContent?.rowCount, 1)
    assert.equal((await db.query(`SELECT customer FROM ${table} WHERE id = 4`)).rows[0].customer, 'dee')
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE total = 0`)).rows[0].n, 0)
  })

  it('never reaches the Data API for a connection the caller is not granted', async () => {
    const before = calls('rds-data')
    const denied = await call('alice', ['dba'], 'sql_query', { connection: 'other-db', sql: 'SELECT 1' })
    assert.equal(denied.isError, true)
    assert.match(JSON.stringify(denied.content), /POLICY_DENIED/)
    const unknown = await call('alice', ['dba'], 'sql_query', { connection: 'nope', sql: 'SELECT 1' })
    assert.match(JSON.stringify(unknown.content), /POLICY_DENIED/)
    assert.equal(calls('rds-data'), before)
  })

  it('runs an allowed command and refuses others before SSM is called', async () => {
    const ok = await call('bob', ['sre'], 'ssm_run', { connection: 'web', instance: 'i-0a1b2c3d4e5f60001', command: 'echo hello' })
    assert.equal(ok.isError, undefined, JSON.stringify(ok.content))
    assert.equal(ok.structuredContent?.exitCode, 0)
    assert.match(String(ok.structuredContent?.stdout), /^hello/)
    const executions = ssm.executions().length
    const before = calls('ssm')
    for (const [instance, command] of [['i-0a1b2c3d4e5f60002', 'uptime'], ['i-0a1b2c3d4e5f60001', 'echo $(id)'], ['i-0a1b2c3d4e5f60001', 'rm -rf /']]) {
      const refused = await call('bob', ['sre'], 'ssm_run', { connection: 'web', instance, command })
      assert.equal(refused.isError, true)
    }
    assert.equal(calls('ssm'), before)
    assert.equal(ssm.executions().length, executions)
  })

  it('cancels a running command when the client cancels (notifications/cancelled), and reports progress', async () => {
    const { client } = await e2e.connect(await e2e.token('bob', ['sre']))
    const controller = new AbortController()
    const progress: number[] = []
    const running = client.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: 'i-0a1b2c3d4e5f60001', command: 'sleep 20' } }, undefined, {
      signal: controller.signal,
      onprogress: (p) => progress.push(p.progress),
    })
    for (let i = 0; i < 200 && !trail.entries().some((e) => e.action === 'SendCommand' && e.outcome === 'ok'); i++) {
      await new Promise((r) => setTimeout(r, 50))
    }
    await new Promise((r) => setTimeout(r, 400))
    controller.abort()
    await assert.rejects(running)
    for (let i = 0; i < 100 && !trail.entries().some((e) => e.action === 'CancelCommand'); i++) await new Promise((r) => setTimeout(r, 50))
    assert.ok(trail.entries().some((e) => e.action === 'CancelCommand' && e.outcome === 'ok'), 'the gateway cancelled the SSM command')
    assert.ok(progress.length > 0, 'progress notifications reached the client')
  })

  it('honours notifications/cancelled while an SSM poll hangs: the call ends, CancelCommand is sent, the audit says CANCELLED', async () => {
    const { client } = await e2e.connect(await e2e.token('bob', ['sre']))
    const controller = new AbortController()
    const seen = ssmProxy.requests().length
    const cancels = trail.entries().filter((e) => e.action === 'CancelCommand').length
    ssmProxy.fault('GetCommandInvocation', HANG)
    try {
      const running = client.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: 'i-0a1b2c3d4e5f60001', command: 'sleep 25' } }, undefined, { signal: controller.signal })
      await ssmProxy.arrived('GetCommandInvocation', seen)
      controller.abort()
      await assert.rejects(running)
      const aborted = performance.now()
      while (trail.entries().filter((e) => e.action === 'CancelCommand').length === cancels && performance.now() - aborted < 5000) await new Promise((r) => setTimeout(r, 20))
      assert.ok(performance.now() - aborted < 2000, `CancelCommand ${Math.round(performance.now() - aborted)} ms after the cancellation`)
      const { readFile } = await import('node:fs/promises')
      let audit = ''
      for (let i = 0; i < 100 && !/"tool":"ssm_run"[^\n]*"code":"CANCELLED"/.test(audit); i++) {
        await new Promise((r) => setTimeout(r, 20))
        audit = await readFile(e2e.auditPath, 'utf8')
      }
      assert.match(audit, /"tool":"ssm_run"[^\n]*"code":"CANCELLED"/)
    } finally {
      ssmProxy.clear()
    }
  })

  it('lists pods in a granted namespace and refuses other resources and namespaces before the cluster is called', async () => {
    const pods = await call('bob', ['sre'], 'kubectl', { connection: 'cluster', verb: 'list', resource: 'pods', namespace: 'shop' })
    assert.equal(pods.isError, undefined, JSON.stringify(pods.content))
    assert.match(JSON.stringify(pods.structuredContent), /payments/)
    const requests = kube.requests().length
    for (const args of [{ verb: 'list', resource: 'secrets', namespace: 'shop' }, { verb: 'list', resource: 'pods', namespace: 'kube-system' }, { verb: 'delete-pod', resource: 'pods', namespace: 'shop', name: 'x' }]) {
      const refused = await call('bob', ['sre'], 'kubectl', { connection: 'cluster', ...args })
      assert.equal(refused.isError, true)
      assert.match(JSON.stringify(refused.content), /K8S_NOT_ALLOWED/)
    }
    assert.equal(kube.requests().length, requests)
  })

  describe('the same tools on the 2026-07-28 lane (v2 client pinned to the revision)', () => {
    const modernCall = async (sub: string, groups: string[], name: string, args: Record<string, unknown>): Promise<ToolResult> => {
      const client = await e2e.connectModern(await e2e.token(sub, groups))
      const result = await client.callTool({ name, arguments: args })
      const structured = result.structuredContent
      const record = typeof structured === 'object' && structured !== null && !Array.isArray(structured) ? Object.fromEntries(Object.entries(structured)) : undefined
      return { isError: result.isError, content: result.content, structuredContent: record }
    }

    it('lists the caller’s own connection enum', async () => {
      const client = await e2e.connectModern(await e2e.token('alice', ['dba']))
      const sql = (await client.listTools()).tools.find((t) => t.name === 'sql_query')
      assert.deepEqual((sql?.inputSchema.properties as Record<string, { enum?: string[] }>).connection?.enum, ['orders'])
      const sre = await e2e.connectModern(await e2e.token('bob', ['sre']))
      const ssmTool = (await sre.listTools()).tools.find((t) => t.name === 'ssm_run')
      assert.deepEqual((ssmTool?.inputSchema.properties as Record<string, { enum?: string[] }>).connection?.enum, ['web'])
    })

    it('sql_query reads with the grant’s limits and refuses writes and foreign connections', async () => {
      const read = await modernCall('alice', ['dba'], 'sql_query', { connection: 'orders', sql: `SELECT id, customer, email FROM ${table} ORDER BY id` })
      assert.equal(read.isError, undefined, JSON.stringify(read.content))
      assert.equal(read.structuredContent?.rowCount, 2)
      assert.ok(!JSON.stringify(read.structuredContent).includes('@example'), 'expected: !JSON.stringify(read.structuredContent).includes(\'@example\')')
      const write = await modernCall('alice', ['dba'], 'sql_query', { connection: 'orders', sql: `UPDATE ${table} SET total = 0` })
      assert.match(JSON.stringify(write.content), /\[SQL_NOT_READ_ONLY\][^"]*correlation id/)
      const before = calls('rds-data')
      const foreign = await modernCall('alice', ['dba'], 'sql_query', { connection: 'other-db', sql: 'SELECT 1' })
      assert.match(JSON.stringify(foreign.content), /POLICY_DENIED/)
      assert.equal(calls('rds-data'), before)
    })

    it('ssm_run runs an allowed command and refuses others before SSM is called', async () => {
      const ok = await modernCall('bob', ['sre'], 'ssm_run', { connection: 'web', instance: 'i-0a1b2c3d4e5f60001', command: 'echo modern' })
      assert.equal(ok.isError, undefined, JSON.stringify(ok.content))
      assert.match(String(ok.structuredContent?.stdout), /^modern/)
      const before = calls('ssm')
      const refused = await modernCall('bob', ['sre'], 'ssm_run', { connection: 'web', instance: 'i-0a1b2c3d4e5f60001', command: 'rm -rf /' })
      assert.equal(refused.isError, true)
      assert.equal(calls('ssm'), before)
    })

    it('kubectl lists pods in a granted namespace and refuses others before the cluster is called', async () => {
      const pods = await modernCall('bob', ['sre'], 'kubectl', { connection: 'cluster', verb: 'list', resource: 'pods', namespace: 'shop' })
      assert.equal(pods.isError, undefined, JSON.stringify(pods.content))
      assert.match(JSON.stringify(pods.structuredContent), /payments/)
      const requests = kube.requests().length
      const refused = await modernCall('bob', ['sre'], 'kubectl', { connection: 'cluster', verb: 'list', resource: 'secrets', namespace: 'shop' })
      assert.match(JSON.stringify(refused.content), /K8S_NOT_ALLOWED/)
      assert.equal(kube.requests().length, requests)
    })

    it('reports progress on the response stream, and closing that stream cancels the command', async () => {
      const client = await e2e.connectModern(await e2e.token('bob', ['sre']))
      const cancelsBefore = trail.entries().filter((e) => e.action === 'CancelCommand').length
      const sendsBefore = trail.entries().filter((e) => e.action === 'SendCommand' && e.outcome === 'ok').length
      const controller = new AbortController()
      const progress: number[] = []
      const running = client.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: 'i-0a1b2c3d4e5f60001', command: 'sleep 20' } }, {
        signal: controller.signal,
        onprogress: (p) => progress.push(p.progress),
      })
      for (let i = 0; i < 200 && trail.entries().filter((e) => e.action === 'SendCommand' && e.outcome === 'ok').length === sendsBefore; i++) {
        await new Promise((r) => setTimeout(r, 50))
      }
      await new Promise((r) => setTimeout(r, 400))
      controller.abort()
      await assert.rejects(running)
      const cancelled = () => trail.entries().filter((e) => e.action === 'CancelCommand' && e.outcome === 'ok').length > cancelsBefore
      for (let i = 0; i < 100 && !cancelled(); i++) await new Promise((r) => setTimeout(r, 50))
      assert.ok(cancelled(), 'the gateway cancelled the SSM command when the stream closed')
      assert.ok(progress.length > 0, 'progress notifications reached the client')
    })
  })

  it('audits every call with the deciding grant', async () => {
    const { readFile } = await import('node:fs/promises')
    const audit = await readFile(e2e.auditPath, 'utf8')
    assert.match(audit, /"tool":"sql_query"[^\n]*"grantId":"analyst-write"[^\n]*"outcome":"ok"/)
    assert.match(audit, /"tool":"kubectl"[^\n]*"grantId":"sre-ops"[^\n]*"outcome":"error"[^\n]*"code":"K8S_NOT_ALLOWED"/)
    assert.ok(!audit.includes(credentials.secretAccessKey) && !audit.includes(credentials.sessionToken), 'expected: !audit.includes(credentials.secretAccessKey) && !audit.includes(credentials.sessionToken)')
  })
})
