import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it, mock } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm'
import pg from 'pg'
import { gatewayCredentials } from '../../src/aws/gateway-credentials.js'
import { createRoleCredentials } from '../../src/aws/role-credentials.js'
import { SANDBOX } from '../../src/cli/sandbox-topology.js'
import { createLogger } from '../../src/cli/logger.js'
import { startGateway, type RunningGateway } from '../../src/cli/start-gateway.js'
import { systemClock } from '../../src/clock.js'
import { gatewayConfigSchema } from '../../src/config.js'
import { startEksEmulator, type EksEmulator } from '../../src/sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer, type KubeApiServer } from '../../src/sandbox/kube-api/kube-api-server.js'
import { createPgBackend } from '../../src/sandbox/rds-data/pg-backend.js'
import { seedDemoDatabase } from '../../src/sandbox/rds-data/seed-demo.js'
import type { SqlBackend } from '../../src/sandbox/rds-data/rds-data-types.js'
import { startRdsDataEmulator, type RdsDataEmulator } from '../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { startServiceAccountIssuer, type ServiceAccountIssuer } from '../../src/sandbox/service-account-issuer.js'
import { createCredentialStore, type SandboxCredential } from '../../src/sandbox/sigv4/credential-store.js'
import { DEMO_INSTANCES } from '../../src/sandbox/ssm/ssm-fleet.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { startStsEmulator, type StsEmulator } from '../../src/sandbox/sts/start-sts-emulator.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { startTestIssuer, type TestIssuer } from '../support/test-issuer.js'

// The gateway as deployed with IRSA (role ARN + projected token file + STS endpoint, no keys), in
// this process so time can move: node:test's mocked Date is the one clock shared by the SDK
// (signing, credential caching), the gateway and every emulator's SigV4 verifier.
const MINUTE = 60_000
const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'
// The demo orders schema, in a schema of its own: other test files share the database.
const SCHEMA = `aws_identity_${Math.random().toString(36).slice(2, 10)}`
const ORDERS_ROLE = SANDBOX.connectionRoleArns[0]
const POLICY = resolve(import.meta.dirname, '..', '..', 'policies', 'demo.json')
const ISOLATED_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']

type ToolResult = { isError?: boolean; content: unknown; structuredContent?: Record<string, unknown> }

/**
 * Relays to an emulator and stamps its answers with the shared clock's time, as AWS stamps its own:
 * the SDK corrects its clock skew from the Date header, and Node's server would send wall time.
 */
async function stampedFront(target: string, fronts: Server[]): Promise<string> {
  const upstream = new URL(target)
  const server = createServer((req, res) => {
    const relay = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, date: new Date().toUTCString() })
      answer.pipe(res)
    })
    relay.on('error', () => res.destroy())
    req.pipe(relay)
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  fronts.push(server)
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('Airlock → AWS as itself: IRSA token expiry, credential refresh, no credential ever reaches the agent', () => {
  const saved = { ...process.env }
  const store = createCredentialStore()
  const trail = createTrail(systemClock)
  const seen: string[] = []
  const logLines: string[] = []
  let dir: string
  let sa: ServiceAccountIssuer
  let sts: StsEmulator
  let backend: SqlBackend
  let rds: RdsDataEmulator
  let ssm: SsmEmulator
  let kube: KubeApiServer
  let eks: EksEmulator
  let idp: TestIssuer
  let gateway: RunningGateway
  let roleSts: STSClient
  const clients: Client[] = []
  const fronts: Server[] = []

  before(async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() })
    for (const key of ISOLATED_ENV) delete process.env[key]
    dir = await mkdtemp(join(tmpdir(), 'airlock-aws-identity-'))
    // Only IRSA may answer in the SDK chain: no shared files, no instance metadata.
    process.env['AWS_CONFIG_FILE'] = join(dir, 'no-config')
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(dir, 'no-credentials')
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true'
    const tokenFile = join(dir, 'irsa', 'token')
    sa = await startServiceAccountIssuer({ clock: systemClock, tokenFile, namespace: SANDBOX.namespace, serviceAccount: SANDBOX.serviceAccount })
    // The gateway starts with a projected token that has already expired (claim 1).
    await sa.rotate({ expiresInSeconds: -60 })
    sts = await startSts()
    const admin = new pg.Client({ connectionString: DATABASE_URL })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${SCHEMA}`)
    await admin.end()
    backend = createPgBackend({ connectionString: DATABASE_URL, poolConfig: { options: `-c search_path=${SCHEMA}` } })
    await seedDemoDatabase(backend)
    rds = await startRdsDataEmulator({
      store,
      trail,
      clock: systemClock,
      clusters: [{ resourceArn: SANDBOX.ordersClusterArn, secrets: { [SANDBOX.ordersSecretArn]: { backend }, [SANDBOX.ordersReadOnlySecretArn]: { backend, readOnly: true } } }],
    })
    ssm = await startSsmEmulator({ store, trail, clock: systemClock, instances: DEMO_INSTANCES })
    kube = await startKubeApiServer({
      store,
      clock: systemClock,
      clusterName: SANDBOX.cluster,
      region: SANDBOX.region,
      mappings: [{ roleArn: SANDBOX.gatewayRoleArn, username: 'airlock-gateway', groups: ['airlock:readers'], rules: SANDBOX.kubeRules }],
    })
    eks = await startEksEmulator({ store, trail, clock: systemClock, clusters: [{ name: SANDBOX.cluster, region: SANDBOX.region, endpoint: kube.url, caPem: kube.caPem }] })
    idp = await startTestIssuer({ clock: systemClock })

    const credentials = gatewayCredentials({
      AWS_REGION: SANDBOX.region,
      AWS_ROLE_ARN: SANDBOX.gatewayRoleArn,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_SESSION_NAME: 'airlock-gateway',
      AWS_ENDPOINT_URL_STS: sts.endpoint,
    })
    roleSts = new STSClient({ region: SANDBOX.region, endpoint: sts.endpoint, credentials })
    gateway = await startGateway({
      config: gatewayConfigSchema.parse({
        issuer: idp.issuer,
        listen: { host: '127.0.0.1', port: 0 },
        admin: { port: 0 },
        policy: [POLICY],
        audit: { path: join(dir, 'audit.jsonl'), durability: 'write' },
        awsEndpoints: { rdsData: await stampedFront(rds.endpoint, fronts), ssm: await stampedFront(ssm.endpoint, fronts), eks: await stampedFront(eks.endpoint, fronts) },
      }),
      clock: systemClock,
      awsCredentials: credentials,
      // STS's minimum session, so the per-connection role expires within the test.
      roleCredentials: createRoleCredentials({ sts: roleSts, clock: systemClock, durationSeconds: 900 }),
      logger: createLogger((line) => logLines.push(line), systemClock.now),
    })
  })

  /** `revoked`: the orders role's trust no longer admits the gateway. */
  function startSts(port?: number, revoked = false): Promise<StsEmulator> {
    return startStsEmulator({
      store,
      trail,
      clock: systemClock,
      accountId: SANDBOX.account,
      region: SANDBOX.region,
      oidcProviders: [{ issuer: sa.issuer, jwksUri: sa.jwksUri }],
      roles: [
        { roleArn: SANDBOX.gatewayRoleArn, trust: { issuer: sa.issuer, audience: 'sts.amazonaws.com', subjects: [sa.subject] } },
        { roleArn: ORDERS_ROLE, trust: { principals: [revoked ? `arn:aws:iam::${SANDBOX.account}:role/someone-else` : SANDBOX.gatewayRoleArn], allowSourceIdentity: true } },
      ],
      ...(port === undefined ? {} : { port }),
    })
  }

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()))
    await gateway?.close()
    for (const front of fronts) front.closeAllConnections()
    await Promise.allSettled(fronts.map((f) => new Promise((ok) => f.close(ok))))
    roleSts?.destroy()
    await Promise.allSettled([idp?.stop(), eks?.close(), kube?.close(), ssm?.close(), rds?.close(), sts?.close(), sa?.close()])
    await backend?.close()
    const admin = new pg.Client({ connectionString: DATABASE_URL })
    await admin.connect()
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
    await admin.end()
    await rm(dir, { recursive: true, force: true })
    process.env = saved
    mock.timers.reset()
  })

  /** One tool call by a fresh MCP client with a fresh token; every result is kept for the secret scan. */
  async function call(user: 'alice' | 'bob', name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
    const token = await idp.mint({ sub: user, groups: [user === 'alice' ? 'dba' : 'sre'], aud: gateway.audience })
    const client = new Client({ name: 'aws-identity-e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.resource), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
    clients.push(client)
    try {
      const result = (await client.callTool({ name, arguments: args })) as ToolResult
      seen.push(JSON.stringify(result))
      return result
    } catch (error) {
      seen.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error))
      throw error
    }
  }

  const uptime = () => call('bob', 'ssm_run', { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60001', command: 'uptime' })
  const countOrders = () => call('alice', 'sql_query', { connection: 'orders-db', sql: 'SELECT count(*) AS n FROM orders' })
  const ok = (result: ToolResult): void => assert.equal(result.isError, undefined, JSON.stringify(result.content))
  const stsOk = (action: string) => trail.entries().filter((e) => e.service === 'sts' && e.action === action && e.outcome === 'ok')
  const issued = (action: string): SandboxCredential[] =>
    stsOk(action).map((e) => {
      const credential = store.get(String(e.detail?.['issuedAccessKeyId']))
      assert.ok(credential !== undefined, 'expected: credential !== undefined')
      return credential
    })

  async function until(what: string, condition: () => boolean): Promise<void> {
    for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(condition(), what)
  }

  /** Signs GetCallerIdentity and an SSM call with exactly these credentials; returns the error names. */
  let probes = 0
  async function refusals(credential: SandboxCredential): Promise<string[]> {
    probes++
    const credentials = { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, sessionToken: credential.sessionToken ?? '' }
    const stsClient = new STSClient({ region: SANDBOX.region, endpoint: sts.endpoint, credentials, maxAttempts: 1 })
    const ssmClient = new SSMClient({ region: SANDBOX.region, endpoint: ssm.endpoint, credentials, maxAttempts: 1 })
    const outcome = (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) => (e instanceof Error ? e.name : 'unknown'))
    try {
      return await Promise.all([outcome(stsClient.send(new GetCallerIdentityCommand({}))), outcome(ssmClient.send(new DescribeInstanceInformationCommand({})))])
    } finally {
      stsClient.destroy()
      ssmClient.destroy()
    }
  }

  it('reports an expired projected token as a tool error, then recovers once the file is rotated, without a restart', async () => {
    const failed = await uptime()
    assert.equal(failed.isError, true)
    const text = JSON.stringify(failed.content)
    assert.match(text, /\[AWS_CREDENTIALS\]/)
    assert.doesNotMatch(text, /eyJ|ASIA|ExpiredToken|<Error>|Token expired/)
    assert.equal(stsOk('AssumeRoleWithWebIdentity').length, 0)
    assert.ok(trail.entries().some((e) => e.action === 'AssumeRoleWithWebIdentity' && e.outcome === 'ExpiredTokenException'), 'expected: trail.entries().some((e) => e.action === \'AssumeRoleWithWebIdentity\' && e.outcome === \'ExpiredTok...')
    const sql = await countOrders()
    assert.equal(sql.isError, true)
    assert.match(JSON.stringify(sql.content), /\[AWS_CREDENTIALS\]/)
    const audit = await readFile(join(dir, 'audit.jsonl'), 'utf8')
    // The operator's record says why; the agent only got the fixed sentence.
    assert.match(audit, /"tool":"ssm_run"[^\n]*"code":"AWS_CREDENTIALS"[^\n]*web identity token[^\n]*has expired/)
    assert.match(audit, /"tool":"sql_query"[^\n]*"code":"AWS_CREDENTIALS"/)

    // kubelet writes a fresh token; the next call federates again.
    await sa.rotate()
    ok(await uptime())
    ok(await countOrders())
    assert.equal(stsOk('AssumeRoleWithWebIdentity').length, 1)
    assert.equal(stsOk('AssumeRole').length, 1)
  })

  it('refreshes the per-connection role session before it expires; the old one is refused afterwards', async () => {
    const [first] = issued('AssumeRole')
    assert.ok(first?.expiresAt !== undefined, 'expected: first?.expiresAt !== undefined')
    // 4 minutes before expiry: inside the refresh window, still valid.
    mock.timers.tick(first.expiresAt - Date.now() - 4 * MINUTE)
    ok(await countOrders())
    assert.equal(stsOk('AssumeRole').length, 2)
    mock.timers.tick(5 * MINUTE)
    assert.deepEqual(await refusals(first), ['ExpiredToken', 'ExpiredTokenException'])
    ok(await countOrders())
    ok(await countOrders())
    assert.equal(stsOk('AssumeRole').length, 2, 'the refreshed session is reused')
    const sql = trail.entries().filter((e) => e.service === 'rds-data')
    assert.ok(sql.every((e) => e.outcome === 'ok' && e.sourceIdentity === 'alice'), 'expected: sql.every((e) => e.outcome === \'ok\' && e.sourceIdentity === \'alice\')')
  })

  it("refreshes the gateway's own web-identity session before it expires; the old one is refused afterwards", async () => {
    const [first] = issued('AssumeRoleWithWebIdentity')
    assert.ok(first?.expiresAt !== undefined, 'expected: first?.expiresAt !== undefined')
    // kubelet keeps the projected token fresh (it rotates at 80% of its lifetime).
    mock.timers.tick(first.expiresAt - Date.now() - 4 * MINUTE)
    await sa.rotate()
    ok(await uptime())
    ok(await uptime())
    await until('a second AssumeRoleWithWebIdentity', () => stsOk('AssumeRoleWithWebIdentity').length === 2)
    mock.timers.tick(5 * MINUTE)
    assert.deepEqual(await refusals(first), ['ExpiredToken', 'ExpiredTokenException'])
    ok(await uptime())
    ok(await call('bob', 'kubectl', { connection: 'demo-cluster', verb: 'list', resource: 'pods', namespace: 'shop' }))
    ok(await countOrders())
    assert.equal(stsOk('AssumeRoleWithWebIdentity').length, 2)
    // The only refused data calls are the probes above, made with the old sessions on purpose.
    const failedData = trail.entries().filter((e) => e.service !== 'sts' && e.outcome !== 'ok')
    assert.deepEqual(
      failedData.map((e) => `${e.action}:${e.outcome}`),
      Array.from({ length: probes }, () => 'DescribeInstanceInformation:ExpiredTokenException'),
      'no tool call was signed with expired credentials',
    )
  })

  it('fails clearly when the session expires while the token file is stale, and recovers on rotation', async () => {
    const [, second] = issued('AssumeRoleWithWebIdentity')
    assert.ok(second?.expiresAt !== undefined, 'expected: second?.expiresAt !== undefined')
    await sa.rotate({ expiresInSeconds: -1 })
    mock.timers.tick(second.expiresAt - Date.now() + MINUTE)
    const failed = await uptime()
    assert.equal(failed.isError, true)
    assert.match(JSON.stringify(failed.content), /\[AWS_CREDENTIALS\]/)
    await sa.rotate()
    ok(await uptime())
    assert.equal(stsOk('AssumeRoleWithWebIdentity').length, 3)
  })

  it('keeps using a still-valid role session while STS is down, but not once STS refuses or the session has expired', async () => {
    ok(await countOrders())
    const current = issued('AssumeRole').at(-1)
    assert.ok(current?.expiresAt !== undefined, 'expected: current?.expiresAt !== undefined')
    const assumed = stsOk('AssumeRole').length
    const port = Number(new URL(sts.endpoint).port)
    await sts.close()
    mock.timers.tick(current.expiresAt - Date.now() - 4 * MINUTE)
    ok(await countOrders())
    assert.equal(trail.entries().filter((e) => e.service === 'rds-data').at(-1)?.accessKeyId, current.accessKeyId)

    // STS answers again, but the role's trust was withdrawn: a refusal is never papered over.
    sts = await startSts(port, true)
    const denied = await countOrders()
    assert.equal(denied.isError, true)
    assert.match(JSON.stringify(denied.content), /\[AWS_DENIED\]/)
    await sts.close()

    mock.timers.tick(5 * MINUTE)
    const expired = await countOrders()
    assert.equal(expired.isError, true)
    assert.match(JSON.stringify(expired.content), /\[AWS_CREDENTIALS\]/)
    sts = await startSts(port)
    ok(await countOrders())
    assert.equal(stsOk('AssumeRole').length, assumed + 1)
  })

  it('never shows the agent an access key, secret or session token, whatever the tool and outcome', async () => {
    ok(await call('alice', 'whoami'))
    ok(await call('alice', 'list_connections'))
    ok(await call('bob', 'list_connections'))
    ok(await call('alice', 'sql_query', { connection: 'orders-db', sql: 'SELECT id, name, email, phone FROM customers ORDER BY id LIMIT 5' }))
    const failing: [user: 'alice' | 'bob', tool: string, args: Record<string, unknown>][] = [
      ['alice', 'sql_query', { connection: 'orders-db', sql: 'DELETE FROM customers' }],
      ['alice', 'sql_query', { connection: 'orders-db', sql: 'SELECT * FROM no_such_table' }],
      ['alice', 'sql_query', { connection: 'web-fleet', sql: 'SELECT 1' }],
      ['alice', 'ssm_run', { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60001', command: 'uptime' }],
      ['bob', 'ssm_run', { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60001', command: 'cat /etc/shadow' }],
      ['bob', 'ssm_run', { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60009', command: 'uptime' }],
      ['bob', 'kubectl', { connection: 'demo-cluster', verb: 'get', resource: 'pods', namespace: 'kube-system' }],
      ['bob', 'kubectl', { connection: 'demo-cluster', verb: 'get', resource: 'pods', namespace: 'shop', name: 'no-such-pod' }],
      ['bob', 'kubectl', { connection: 'demo-cluster', verb: 'delete-pod', resource: 'pods', namespace: 'shop', name: 'x' }],
    ]
    for (const [user, tool, args] of failing) {
      const result = await call(user, tool, args)
      assert.equal(result.isError, true, `${tool} ${JSON.stringify(args)} should fail`)
    }
    ok(await call('bob', 'ssm_run', { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60002', command: 'df -h' }))
    ok(await call('bob', 'kubectl', { connection: 'demo-cluster', verb: 'events', resource: 'pods', namespace: 'shop' }))
    ok(await call('bob', 'kubectl', { connection: 'demo-cluster', verb: 'describe', resource: 'deployments', namespace: 'shop', name: 'checkout' }))

    const secrets = [...issued('AssumeRoleWithWebIdentity'), ...issued('AssumeRole')].flatMap((c) => [c.accessKeyId, c.secretAccessKey, c.sessionToken ?? ''])
    assert.ok(secrets.length >= 15 && secrets.every((s) => s.length >= 16), 'every issued session is searched for')
    const audit = await readFile(join(dir, 'audit.jsonl'), 'utf8')
    const irsaToken = await readFile(sa.tokenFile, 'utf8')
    assert.ok(seen.length >= 25, 'every call above was recorded')
    for (const [where, text] of [['tool results', seen.join('\n')], ['audit', audit], ['gateway log', logLines.join('\n')]] as const) {
      for (const secret of [...secrets, irsaToken]) assert.ok(!text.includes(secret), `a credential appears in the ${where}`)
      assert.doesNotMatch(text, /ASIA[A-Z2-7]{16}/, `an access key id appears in the ${where}`)
    }
  })
})
