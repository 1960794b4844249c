import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { systemClock } from '../../src/clock.js'
import { startEksEmulator, type EksEmulator } from '../../src/sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer, type KubeApiServer } from '../../src/sandbox/kube-api/kube-api-server.js'
import { createPgBackend } from '../../src/sandbox/rds-data/pg-backend.js'
import { startRdsDataEmulator, type RdsDataEmulator } from '../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { createTeardown } from '../support/teardown.js'
import { startE2E, type E2E } from './support/start-e2e.js'

const ACCOUNT = '111122223333'
const CLUSTER_ARN = `arn:aws:rds:us-east-1:${ACCOUNT}:cluster:e2e-detectors`
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:e2e-detectors-Ab12Cd`
const GATEWAY_SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/airlock-gateway/e2e`
const WEB1 = 'i-0a1b2c3d4e5f60001'
const credentials = { accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(40).toString('base64') }
const table = `e2e_sessions_${randomBytes(4).toString('hex')}`
const databaseUrl = 'postgres://postgres@127.0.0.1:5432/test'

const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImUyZSJ9.eyJzdWIiOiJhZGEiLCJzY29wZSI6ImFkbWluIn0.ZTJlLXNpZ25hdHVyZS1ieXRlcy0wMTIzNDU2Nzg5'
const DB_PASSWORD = `Hunter2-${randomBytes(4).toString('hex')}`
const SECRETS = [JWT, DB_PASSWORD, 'Pg-demo-2f9a', 'AKIAIOSFODNN7EXAMPLE', 'ghp_e2eTokenValue0123456789']

function textOf(result: object): string {
  return JSON.stringify([Reflect.get(result, 'content'), Reflect.get(result, 'structuredContent')])
}

function assertNoSecret(text: string, except: readonly string[] = []): void {
  for (const secret of SECRETS) if (!except.includes(secret)) assert.ok(!text.includes(secret), `leaked ${secret.slice(0, 12)}…: ${text.slice(0, 400)}`)
}

describe('value detectors run over every tool’s output, as the grant configures them', () => {
  const teardown = createTeardown()
  const store = createCredentialStore([{ ...credentials, principalArn: GATEWAY_SESSION }])
  const trail = createTrail(systemClock)
  let db: pg.Client
  let ssm: SsmEmulator
  let e2e: E2E

  before(async () => {
    db = new pg.Client({ connectionString: databaseUrl })
    await db.connect()
    teardown.add(() => db.end())
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, owner_email text, token text, note text)`)
    teardown.add(() => db.query(`DROP TABLE IF EXISTS ${table}`))
    await db.query(`INSERT INTO ${table} VALUES (1, 'ada@example.com', $1, 'rotated with key AKIAIOSFODNN7EXAMPLE')`, [JWT])
    const backend = createPgBackend({ connectionString: databaseUrl })
    teardown.add(() => backend.close())
    const rds: RdsDataEmulator = await startRdsDataEmulator({ store, trail, clock: systemClock, clusters: [{ resourceArn: CLUSTER_ARN, secrets: { [SECRET_ARN]: { backend } } }] })
    teardown.add(() => rds.close())
    ssm = await startSsmEmulator({ store, trail, clock: systemClock, instances: [{ instanceId: WEB1, name: 'web-1' }] })
    teardown.add(() => ssm.close())
    // The instance's tree on the host; its commands see it as / (so its log tree is /var/log).
    const hostLogs = `${ssm.instanceDir(WEB1)}/var/log`
    await writeFile(join(hostLogs, 'app', 'deploy.log'), `cloning https://x-access-token:ghp_e2eTokenValue0123456789@github.com/acme/app\nbearer ${JWT}\n`)
    // A process listing as `ps -o args=` prints it: a command line with a password and a session token.
    // (The instance's own `ps` sees only the instance's processes, so the listing is a saved one.)
    await writeFile(join(hostLogs, 'app', 'processes.log'), `node -e setTimeout(() => {}, 120000) -- --db-password=${DB_PASSWORD} --session=${JWT}\n`)
    const logs = '/var/log'
    const kube: KubeApiServer = await startKubeApiServer({
      store,
      clock: systemClock,
      clusterName: 'e2e',
      region: 'us-east-1',
      mappings: [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/airlock-gateway`, username: 'airlock', groups: [], rules: [{ verbs: ['get', 'list'], resources: ['*'], namespaces: ['*'] }] }],
    })
    teardown.add(() => kube.close())
    const eks: EksEmulator = await startEksEmulator({ store, trail, clock: systemClock, clusters: [{ name: 'e2e', region: 'us-east-1', endpoint: kube.url, caPem: kube.caPem }] })
    teardown.add(() => eks.close())
    const ssmCommands = [['ps', '-o', 'args=', '-p', '{int:1-4194304}'], ['cat', `{path:${logs}/**}`]]
    const kubectl = { verbs: ['logs'], resources: ['pods'], namespaces: ['shop'] }
    e2e = await startE2E({
      startMs: systemClock.now(),
      awsCredentials: async () => credentials,
      config: { awsEndpoints: { rdsData: rds.endpoint, ssm: ssm.endpoint, eks: eks.endpoint } },
      policy: {
        version: 1,
        connections: {
          sessions: { kind: 'rds-data', region: 'us-east-1', engine: 'postgres', database: 'test', resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN },
          web: { kind: 'ssm', region: 'us-east-1', instanceIds: [WEB1] },
          cluster: { kind: 'eks', region: 'us-east-1', cluster: 'e2e' },
        },
        grants: [
          { id: 'ops-default', groups: ['ops'], connections: ['sessions', 'web', 'cluster'], tools: ['sql_query', 'ssm_run', 'kubectl'], ssm: { commands: ssmCommands }, kubectl },
          // Opted out of one detector at the grant, and of emails for SQL only: the rest still run.
          {
            id: 'dba-opt-out',
            groups: ['dba'],
            connections: ['sessions', 'web'],
            tools: ['sql_query', 'ssm_run'],
            detectors: { namedSecrets: false },
            sql: { detectors: { awsKeys: true, emails: false, cardNumbers: true } },
            ssm: { commands: ssmCommands },
          },
        ],
      },
    })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  const ps = () => ({ connection: 'web', instance: WEB1, command: 'cat /var/log/app/processes.log' })

  it('ssm_run: a ps listing through the v1 client on the 2025 lane shows the command line without its secrets', async () => {
    const { client } = await e2e.connect(await e2e.token('olga', ['ops']))
    const result = await client.callTool({ name: 'ssm_run', arguments: ps() })
    assert.equal(result.isError, undefined, textOf(result))
    const text = textOf(result)
    assert.match(text, /--db-password=\[redacted:secret\] --session=\[redacted:jwt\]/)
    assertNoSecret(text)
  })

  it('ssm_run: a file with a token in a URL and a bearer JWT, through the v2 client on the 2026-07-28 lane', async () => {
    const client = await e2e.connectModern(await e2e.token('olga', ['ops']))
    const result = await client.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: WEB1, command: 'cat /var/log/app/deploy.log' } })
    const text = textOf(result)
    assert.match(text, /x-access-token:\[redacted:secret\]@github\.com/)
    assertNoSecret(text)
  })

  it('sql_query: a JWT and an AWS key in result cells, on both lanes', async () => {
    const sql = `SELECT id, owner_email, token, note FROM ${table}`
    const { client } = await e2e.connect(await e2e.token('olga', ['ops']))
    const modern = await e2e.connectModern(await e2e.token('olga', ['ops']))
    for (const result of [await client.callTool({ name: 'sql_query', arguments: { connection: 'sessions', sql } }), await modern.callTool({ name: 'sql_query', arguments: { connection: 'sessions', sql } })]) {
      assert.equal(result.isError, undefined, textOf(result))
      assert.match(textOf(result), /\[redacted:jwt\]/)
      assertNoSecret(textOf(result))
      assert.ok(!textOf(result).includes('ada@example.com'), 'emails are on by default')
    }
  })

  it('kubectl: a pod log with a database password in a connection string', async () => {
    const client = await e2e.connectModern(await e2e.token('olga', ['ops']))
    const result = await client.callTool({ name: 'kubectl', arguments: { connection: 'cluster', verb: 'logs', resource: 'pods', namespace: 'shop', name: 'payments-5c8d7f9b4-x2k9p' } })
    assert.equal(result.isError, undefined, textOf(result))
    assert.match(textOf(result), /postgres:\/\/payments:\[redacted:secret\]@payments-db/)
    assert.match(textOf(result), /password authentication failed/, 'prose about passwords stays')
    assertNoSecret(textOf(result))
  })

  it('a grant’s opt-out shows what it turned off, and only that', async () => {
    const { client } = await e2e.connect(await e2e.token('dora', ['dba']))
    const listing = textOf(await client.callTool({ name: 'ssm_run', arguments: ps() }))
    assert.ok(listing.includes(`--db-password=${DB_PASSWORD}`), 'namedSecrets is off for this grant')
    assert.match(listing, /--session=\[redacted:jwt\]/, 'jwts stays on')
    const rows = textOf(await client.callTool({ name: 'sql_query', arguments: { connection: 'sessions', sql: `SELECT owner_email, token FROM ${table}` } }))
    assert.ok(rows.includes('ada@example.com'), 'sql.detectors turned emails off for sql_query')
    assertNoSecret(rows, [DB_PASSWORD])
  })

  it('records which detectors fired, and never the values', async () => {
    const audit = await readFile(e2e.auditPath, 'utf8')
    const calls = audit.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.type === 'tools.call' && r.tool === 'ssm_run' && r.outcome === 'ok')
    const reports = calls.map((r) => Reflect.get(Object(r.detail), 'outputRedaction'))
    assert.ok(reports.some((r) => JSON.stringify(r) === JSON.stringify({ detectors: ['jwts', 'namedSecrets'], redactedStrings: 2 })), JSON.stringify(reports))
    assertNoSecret(audit)
  })
})
