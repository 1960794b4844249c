import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import type { AuditEvent } from '../../src/audit/audit-event.js'
import { AuditError } from '../../src/errors.js'
import { systemClock } from '../../src/clock.js'
import { hashArgs } from '../../src/mcp/hash-args.js'
import { createPgBackend } from '../../src/sandbox/rds-data/pg-backend.js'
import { startRdsDataEmulator, type RdsDataEmulator } from '../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { DEMO_INSTANCES } from '../../src/sandbox/ssm/ssm-fleet.js'
import { startSsmEmulator, type SsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { startMcpGateway, type McpGateway } from '../mcp/support/start-mcp-gateway.js'
import { startE2E, type E2E } from './support/start-e2e.js'

const ACCOUNT = '111122223333'
const CLUSTER_ARN = `arn:aws:rds:us-east-1:${ACCOUNT}:cluster:intent`
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:intent-Ab12Cd`
const credentials = { accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(40).toString('base64') }
const INSTANCE = 'i-0a1b2c3d4e5f60001'
const POLICY = {
  version: 1,
  connections: {
    orders: { kind: 'rds-data', region: 'us-east-1', engine: 'postgres', database: 'test', resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN },
    web: { kind: 'ssm', region: 'us-east-1', instanceIds: [INSTANCE] },
  },
  grants: [
    { id: 'ops', groups: ['sre'], connections: ['orders', 'web'], tools: ['sql_query', 'ssm_run', 'whoami'], sql: { mode: 'read-write' }, ssm: { commands: [['uptime'], ['echo', '{word}']] } },
  ],
}

type ToolResult = { isError?: boolean; content: { type: string; text: string }[] }
type Line = AuditEvent & { seq: number }

describe('a durable intent record before any call that reaches AWS', () => {
  const store = createCredentialStore([{ ...credentials, principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/airlock-gateway/intent` }])
  const trail = createTrail(systemClock)
  const backend = createPgBackend({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const db = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
  const table = `intent_${randomBytes(4).toString('hex')}`
  let rds: RdsDataEmulator
  let ssm: SsmEmulator
  const awsCalls = () => trail.entries().filter((e) => e.service === 'ssm' || e.service === 'rds-data').length

  before(async () => {
    await db.connect()
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`)
    rds = await startRdsDataEmulator({ store, trail, clock: systemClock, clusters: [{ resourceArn: CLUSTER_ARN, secrets: { [SECRET_ARN]: { backend } } }] })
    ssm = await startSsmEmulator({ store, trail, clock: systemClock, instances: DEMO_INSTANCES })
  })
  after(async () => {
    await Promise.allSettled([rds.close(), ssm.close()])
    await db.query(`DROP TABLE IF EXISTS ${table}`)
    await db.end()
    await backend.close()
  })

  const gatewayConfig = () => ({
    startMs: systemClock.now(),
    awsCredentials: async () => credentials,
    config: { awsEndpoints: { rdsData: rds.endpoint, ssm: ssm.endpoint } },
    policy: POLICY,
  })
  const lines = async (path: string): Promise<Line[]> =>
    (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line)

  describe('with a working audit log', () => {
    let e2e: E2E
    before(async () => {
      e2e = await startE2E(gatewayConfig())
    })
    after(() => e2e.close())

    it('writes the intent before the AWS call and the outcome after, paired by correlation id and argument hash', async () => {
      const { client } = await e2e.connect(await e2e.token('bob', ['sre']))
      const args = { connection: 'web', instance: INSTANCE, command: 'echo paired' }
      const result = (await client.callTool({ name: 'ssm_run', arguments: args })) as ToolResult
      assert.equal(result.isError, undefined, JSON.stringify(result.content))
      const sql = (await client.callTool({ name: 'sql_query', arguments: { connection: 'orders', sql: `SELECT count(*) FROM ${table}` } })) as ToolResult
      assert.equal(sql.isError, undefined, JSON.stringify(sql.content))
      await client.callTool({ name: 'whoami', arguments: {} })

      const audit = await lines(e2e.auditPath)
      for (const tool of ['ssm_run', 'sql_query']) {
        const intent = audit.find((l) => l.type === 'tools.intent' && l.tool === tool)
        assert.ok(intent !== undefined, `${tool} has an intent`)
        const outcome = audit.find((l) => l.type === 'tools.call' && l.correlationId === intent.correlationId)
        assert.ok(outcome !== undefined, `${tool} has an outcome`)
        assert.ok(intent.seq < outcome.seq, 'expected: intent.seq < outcome.seq')
        assert.equal(outcome.outcome, 'ok')
        assert.equal(intent.argsHash, outcome.argsHash)
        assert.equal(intent.grantId, 'ops')
        assert.equal(intent.actor?.sub, 'bob')
        assert.equal(typeof intent.session, 'string')
        assert.equal(intent.args, undefined, 'the intent holds the hash, not the arguments')
      }
      const ssmIntent = audit.find((l) => l.type === 'tools.intent' && l.tool === 'ssm_run')
      assert.equal(ssmIntent?.argsHash, hashArgs(args))
      assert.equal(ssmIntent?.connection, 'web')
      assert.ok(!audit.some((l) => l.type === 'tools.intent' && l.tool === 'whoami'), 'tools that reach no AWS write no intent')
    })

    it('on the 2026-07-28 lane too: intent before the AWS call, outcome after, and no session', async () => {
      const client = await e2e.connectModern(await e2e.token('bob', ['sre']))
      const args = { connection: 'web', instance: INSTANCE, command: 'echo stateless' }
      const result = await client.callTool({ name: 'ssm_run', arguments: args })
      assert.equal(result.isError, undefined, JSON.stringify(result.content))
      const audit = await lines(e2e.auditPath)
      const intent = audit.find((l) => l.type === 'tools.intent' && l.argsHash === hashArgs(args))
      assert.ok(intent !== undefined, 'the modern call has an intent')
      const outcome = audit.find((l) => l.type === 'tools.call' && l.correlationId === intent.correlationId)
      assert.ok(outcome !== undefined && intent.seq < outcome.seq, 'expected: outcome !== undefined && intent.seq < outcome.seq')
      assert.equal(outcome.outcome, 'ok')
      assert.equal(intent.session, undefined)
      assert.equal(outcome.session, undefined)
    })

    it('writes no intent for a call refused by policy or argument validation', async () => {
      const { client } = await e2e.connect(await e2e.token('eve', ['sre']))
      const before = (await lines(e2e.auditPath)).filter((l) => l.type === 'tools.intent').length
      await client.callTool({ name: 'ssm_run', arguments: { connection: 'nope', instance: INSTANCE, command: 'uptime' } })
      await client.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: INSTANCE, command: 'uptime', extra: 1 } })
      assert.equal((await lines(e2e.auditPath)).filter((l) => l.type === 'tools.intent').length, before)
    })
  })

  describe('with the audit log failed (closed under the running gateway)', () => {
    let e2e: E2E
    before(async () => {
      e2e = await startE2E(gatewayConfig())
    })
    after(() => e2e.close())

    it('runs nothing: no SendCommand, no Data API call, no row written', async () => {
      const { client } = await e2e.connect(await e2e.token('bob', ['sre']))
      await e2e.gateway.audit.close()
      const calls = awsCalls()
      const executions = ssm.executions().length
      const ran = (await client.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: INSTANCE, command: 'uptime' } })) as ToolResult
      const wrote = (await client.callTool({ name: 'sql_query', arguments: { connection: 'orders', sql: `INSERT INTO ${table} VALUES (1)` } })) as ToolResult
      for (const result of [ran, wrote]) {
        assert.equal(result.isError, true)
        assert.match(result.content[0]?.text ?? '', /^\[AUDIT_UNAVAILABLE\] The call could not be recorded in the audit trail, so its result is withheld\. \(correlation id [0-9a-f]{12}\)$/)
      }
      assert.equal(awsCalls(), calls, 'the emulators saw no request')
      assert.equal(ssm.executions().length, executions)
      assert.equal((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 0)
      const modern = await e2e.connectModern(await e2e.token('bob', ['sre']))
      const stateless = await modern.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: INSTANCE, command: 'uptime' } })
      assert.equal(stateless.isError, true)
      assert.match(JSON.stringify(stateless.content), /\[AUDIT_UNAVAILABLE\] The call could not be recorded in the audit trail, so its result is withheld\. \(correlation id [0-9a-f]{12}\)/)
      assert.equal(awsCalls(), calls, 'nor for the 2026-07-28 client')
      assert.equal(ssm.executions().length, executions)
    })
  })

  describe('with an audit sink that refuses only intent records', () => {
    let gateway: McpGateway
    const refused: string[] = []
    before(async () => {
      gateway = await startMcpGateway({
        policy: POLICY,
        awsCredentials: async () => credentials,
        endpoints: { rdsData: rds.endpoint, ssm: ssm.endpoint },
        audit: (log) => ({
          async write(event) {
            if (event.type === 'tools.intent') {
              refused.push(event.correlationId ?? '')
              throw new AuditError('AUDIT_WRITE_FAILED', 'ENOSPC')
            }
            return log.write(event)
          },
        }),
      })
    })
    after(() => gateway.close())

    it('does not run the tool, tells the caller AUDIT_UNAVAILABLE, and records that it was not run', async () => {
      const client = await gateway.connect(await gateway.token('bob', ['sre']))
      const calls = awsCalls()
      const executions = ssm.executions().length
      const ran = (await client.callTool({ name: 'ssm_run', arguments: { connection: 'web', instance: INSTANCE, command: 'echo never' } })) as ToolResult
      assert.equal(ran.isError, true)
      assert.match(ran.content[0]?.text ?? '', /^\[AUDIT_UNAVAILABLE\]/)
      const wrote = (await client.callTool({ name: 'sql_query', arguments: { connection: 'orders', sql: `INSERT INTO ${table} VALUES (2)` } })) as ToolResult
      assert.match(wrote.content[0]?.text ?? '', /^\[AUDIT_UNAVAILABLE\]/)
      assert.equal(awsCalls(), calls)
      assert.equal(ssm.executions().length, executions)
      assert.equal((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 0)
      // Tools that reach no AWS need no intent and keep working.
      const whoami = (await client.callTool({ name: 'whoami', arguments: {} })) as ToolResult
      assert.equal(whoami.isError, undefined)

      assert.equal(refused.length, 2)
      await gateway.stop()
      const audit = await lines(gateway.auditPath)
      for (const correlationId of refused) {
        const outcome = audit.find((l) => l.type === 'tools.call' && l.correlationId === correlationId)
        assert.equal(outcome?.code, 'AUDIT_UNAVAILABLE')
        assert.equal(outcome?.outcome, 'error')
        assert.match(String(outcome?.reason), /not run/)
        assert.match(String(outcome?.argsHash), /^[0-9a-f]{64}$/)
      }
    })
  })
})
