import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import type { Principal } from '../../src/auth/principal.js'
import { createAwsClients } from '../../src/cli/aws-clients.js'
import { systemClock } from '../../src/clock.js'
import { AirlockError, UpstreamError } from '../../src/errors.js'
import { rdsDataConnectionSchema, type NamedConnection, type RdsDataConnection } from '../../src/policy/connection-schema.js'
import { grantSchema, type Grant } from '../../src/policy/policy-schema.js'
import { createMysqlBackend } from '../../src/sandbox/rds-data/mysql-backend.js'
import { createPgBackend } from '../../src/sandbox/rds-data/pg-backend.js'
import type { SqlBackend } from '../../src/sandbox/rds-data/rds-data-types.js'
import { startRdsDataEmulator, type RdsDataEmulator } from '../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { createTrail, type Trail, type TrailEntry } from '../../src/sandbox/trail.js'
import type { ProgressUpdate, ToolContext } from '../../tools/define-tool.js'
import sqlQuery from '../../tools/sql-query.js'
import { runStatement } from '../../tools/sql-query/run-statement.js'
import { mysqlBypasses, postgresBypasses } from '../guard/sql/sql-fixtures.js'
import { createMysqlTable, createPgTable, MYSQL_URI, PG_URL } from './support/sql-test-databases.js'

const KEY = { accessKeyId: 'AKIAIOSFODNN7SQLTEST', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSQLTESTKEY' }
const GATEWAY = 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock'
const PG_CLUSTER = 'arn:aws:rds:eu-west-1:111122223333:cluster:airlock-pg'
const PG_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:pg-admin'
const PG_RO_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:pg-reader'
const MY_CLUSTER = 'arn:aws:rds:eu-west-1:111122223333:cluster:airlock-mysql'
const MY_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mysql-admin'
const TABLE = `airlock_sq_${randomBytes(4).toString('hex')}`

const principal: Principal = { issuer: 'https://idp.example.com', subject: 'alice', groups: ['data'], expiresAt: 4_000_000_000 }

type Args = z.infer<z.ZodObject<typeof sqlQuery.input>>

function grant(sql: Record<string, unknown> | undefined): Grant {
  return grantSchema.parse({ id: 'data-sql', groups: ['data'], connections: ['db'], tools: ['sql_query'], ...(sql === undefined ? {} : { sql }) })
}

function connection(input: Record<string, unknown>): NamedConnection<RdsDataConnection> {
  return { ...rdsDataConnectionSchema.parse({ kind: 'rds-data', region: 'eu-west-1', database: 'test', ...input }), id: 'db' }
}

const pgConn = connection({ engine: 'postgres', resourceArn: PG_CLUSTER, secretArn: PG_SECRET })
const pgConnWithReader = connection({ engine: 'postgres', resourceArn: PG_CLUSTER, secretArn: PG_SECRET, readOnlySecretArn: PG_RO_SECRET })
const myConn = connection({ engine: 'mysql', resourceArn: MY_CLUSTER, secretArn: MY_SECRET })
const readOnly = grant(undefined)
const readWrite = grant({ mode: 'read-write' })

const withTable = (sql: string) => sql.replace(/\baccounts\b/g, TABLE)

describe('sql_query', () => {
  let trail: Trail
  let emulator: RdsDataEmulator
  let aws: ReturnType<typeof createAwsClients>
  let backends: SqlBackend[]
  let pgDb: Awaited<ReturnType<typeof createPgTable>>
  let myDb: Awaited<ReturnType<typeof createMysqlTable>>

  function ctx(args: Args, options: { grant?: Grant; connection?: NamedConnection<RdsDataConnection>; signal?: AbortSignal; progress?: (u: ProgressUpdate) => void } = {}): ToolContext<Args, 'rds-data'> {
    return {
      principal,
      grant: options.grant ?? readOnly,
      connection: options.connection ?? pgConn,
      args,
      deps: { aws, clock: systemClock },
      signal: options.signal ?? new AbortController().signal,
      progress: async (update) => options.progress?.(update),
      session: { expiresAt: systemClock.now() + 60_000 },
      policy: { connections: new Map(), grants: [], sources: new Map() },
    }
  }

  /** Runs the tool and returns the trail entries it caused. */
  async function run(args: Args, options: Parameters<typeof ctx>[1] = {}) {
    const start = trail.entries().length
    const result = await sqlQuery.handler(ctx(args, options))
    return { result, calls: trail.entries().slice(start) }
  }

  async function refused(args: Args, code: string, options: Parameters<typeof ctx>[1] = {}): Promise<{ error: AirlockError; calls: readonly TrailEntry[] }> {
    const start = trail.entries().length
    let caught: unknown
    await assert.rejects(sqlQuery.handler(ctx(args, options)), (e: unknown) => {
      caught = e
      assert.ok(e instanceof AirlockError, String(e))
      assert.equal(e.code, code, e.message)
      return true
    })
    assert.ok(caught instanceof AirlockError)
    return { error: caught, calls: trail.entries().slice(start) }
  }

  const actions = (calls: readonly TrailEntry[]) => calls.map((c) => `${c.action}:${c.outcome}`)

  before(async () => {
    trail = createTrail(systemClock)
    pgDb = await createPgTable(TABLE)
    myDb = await createMysqlTable(TABLE)
    const pgBackend = createPgBackend({ connectionString: PG_URL })
    const myBackend = createMysqlBackend({ uri: MYSQL_URI })
    backends = [pgBackend, myBackend]
    emulator = await startRdsDataEmulator({
      store: createCredentialStore([{ ...KEY, principalArn: GATEWAY }]),
      trail,
      clock: systemClock,
      clusters: [
        { resourceArn: PG_CLUSTER, secrets: { [PG_SECRET]: { backend: pgBackend }, [PG_RO_SECRET]: { backend: pgBackend, readOnly: true } } },
        { resourceArn: MY_CLUSTER, secrets: { [MY_SECRET]: { backend: myBackend } } },
      ],
    })
    aws = createAwsClients({ credentials: async () => KEY, endpoints: { rdsData: emulator.endpoint } })
  })

  after(async () => {
    await emulator.close()
    for (const backend of backends) await backend.close()
    await pgDb.drop()
    await myDb.drop()
  })

  it('declares its input, output and grant-dependent hints', () => {
    const input = z.object(sqlQuery.input)
    assert.equal(input.safeParse({ sql: 'SELECT 1', parameters: { id: 1, name: 'x', ok: true, none: null } }).success, true)
    assert.equal(input.safeParse({ sql: 'x'.repeat(100 * 1024 + 1) }).success, false)
    assert.equal(input.safeParse({ sql: '' }).success, false)
    assert.equal(input.safeParse({ sql: 'SELECT 1', parameters: { 'bad-name': 1 } }).success, false)
    assert.equal(input.safeParse({ sql: 'SELECT 1', parameters: { id: { nested: 1 } } }).success, false)
    assert.equal(sqlQuery.connectionKinds.join(), 'rds-data')
    assert.deepEqual(sqlQuery.annotations(readOnly), { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false })
    assert.deepEqual(sqlQuery.annotations(readWrite), { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false })
  })

  describe('PostgreSQL', () => {
    it('returns typed columns in a read-only transaction that is rolled back', async () => {
      const updates: ProgressUpdate[] = []
      const { result, calls } = await run(
        { sql: `SELECT id, owner, balance, created, active, tags FROM ${TABLE} WHERE id <= 2 ORDER BY id` },
        { progress: (u) => updates.push(u) },
      )
      assert.deepEqual(result.structured?.['columns'], [
        { name: 'id', type: 'int4' },
        { name: 'owner', type: 'text' },
        { name: 'balance', type: 'numeric' },
        { name: 'created', type: 'timestamptz' },
        { name: 'active', type: 'bool' },
        { name: 'tags', type: '_text' },
      ])
      const rows = z.array(z.array(z.unknown())).parse(result.structured?.['rows'])
      assert.equal(rows.length, 2)
      assert.equal(rows[0]?.[0], 1)
      assert.equal(rows[0]?.[1], 'ada')
      assert.equal(rows[0]?.[2], '10.50')
      assert.equal(typeof rows[0]?.[3], 'string')
      assert.equal(rows[0]?.[4], true)
      assert.deepEqual(rows[0]?.[5], ['a', 'b'])
      assert.equal(result.structured?.['rowCount'], 2)
      assert.equal(result.structured?.['truncated'], false)
      assert.match(result.text, /^id \| owner \| balance \| created \| active \| tags\n1 \| ada \| 10\.50 \|/)
      assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'ExecuteStatement:ok', 'ExecuteStatement:ok', 'RollbackTransaction:ok'])
      assert.ok(calls.every((c) => c.principalArn === GATEWAY && c.detail?.['secretArn'] === PG_SECRET))
      assert.ok(updates.some((u) => u.message === 'fetched 2 rows'))
      assert.equal(result.audit?.['rolledBack'], true)
      assert.deepEqual(result.audit?.['tables'], [TABLE])
    })

    it('uses the read-only secret for read-only grants when the connection has one', async () => {
      const { calls } = await run({ sql: `SELECT count(*) FROM ${TABLE}` }, { connection: pgConnWithReader })
      assert.ok(calls.length > 0 && calls.every((c) => c.detail?.['secretArn'] === PG_RO_SECRET))
      const write = await run({ sql: `SELECT count(*) FROM ${TABLE}` }, { connection: pgConnWithReader, grant: readWrite })
      assert.ok(write.calls.every((c) => c.detail?.['secretArn'] === PG_SECRET))
    })

    it('caps rows at maxRows and says so', async () => {
      const { result } = await run({ sql: `SELECT id FROM ${TABLE} ORDER BY id` }, { grant: grant({ maxRows: 2 }) })
      assert.deepEqual(result.structured?.['rows'], [[1], [2]])
      assert.equal(result.structured?.['rowCount'], 2)
      assert.equal(result.structured?.['truncated'], true)
      assert.match(result.text, /truncated at the grant's limit of 2/)
      assert.equal(result.audit?.['rowsReturnedByDatabase'], 5)
    })

    it('masks columns and detected values before returning', async () => {
      const g = grant({ maskColumns: { '*.email': 'redact', owner: 'last4' } })
      const { result } = await run({ sql: `SELECT id, owner, email, note FROM ${TABLE} ORDER BY id` }, { grant: g })
      const rows = z.array(z.array(z.unknown())).parse(result.structured?.['rows'])
      assert.deepEqual(rows[0], [1, '••••', '[redacted]', 'vip'])
      assert.deepEqual(rows[1], [2, '••••', '[redacted]', 'card [redacted:card] on file'])
      assert.deepEqual(rows[2], [3, '••••', null, null])
      assert.deepEqual(rows[3], [4, '••••', '[redacted]', 'key [redacted:aws-access-key-id]'])
      assert.doesNotMatch(result.text, /@example|4111|AKIA/)
      assert.deepEqual(result.audit?.['masking'], { maskedColumns: { owner: 'last4', email: 'redact' }, detectors: ['awsKeys', 'cardNumbers'], redactedCells: 2 })
    })

    it('binds parameters as data: an injection string matches nothing and drops nothing', async () => {
      const before = await pgDb.checksum()
      const injection = `ada'; DROP TABLE ${TABLE}; --`
      const { result } = await run({ sql: `SELECT id FROM ${TABLE} WHERE owner = :owner OR id = :id`, parameters: { owner: injection, id: 3 } })
      assert.deepEqual(result.structured?.['rows'], [[3]])
      assert.equal(await pgDb.checksum(), before)
      assert.deepEqual(result.audit?.['parameterNames'], ['owner', 'id'])
      assert.doesNotMatch(JSON.stringify(result.audit), /DROP/)
    })

    it('performs DML for a read-write grant and commits it', async () => {
      const { result, calls } = await run({ sql: `UPDATE ${TABLE} SET balance = balance + :add WHERE id = :id`, parameters: { add: 1, id: 5 } }, { grant: readWrite })
      assert.equal(result.structured?.['rowCount'], 1)
      assert.match(result.text, /1 row affected/)
      assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'ExecuteStatement:ok', 'CommitTransaction:ok'])
      const check = await pgDb.client.query<{ balance: string }>(`SELECT balance FROM ${TABLE} WHERE id = 5`)
      assert.equal(check.rows[0]?.balance, '6.25')
      await pgDb.client.query(`UPDATE ${TABLE} SET balance = 5.25 WHERE id = 5`)
    })

    it('refuses statements a read-write grant never allows, before any AWS call', async () => {
      const { calls } = await refused({ sql: `COPY ${TABLE} TO PROGRAM 'touch /tmp/airlock-sq-pwned'` }, 'SQL_NOT_ALLOWED', { grant: readWrite })
      assert.equal(calls.length, 0)
      assert.equal(existsSync('/tmp/airlock-sq-pwned'), false)
    })

    it('refuses every read-only bypass fixture before any AWS call, leaving the table unchanged', async () => {
      const baseline = await pgDb.checksum()
      for (const fixture of postgresBypasses) {
        const { calls } = await refused({ sql: withTable(fixture.sql) }, fixture.code)
        assert.equal(calls.length, 0, `${fixture.name} reached AWS`)
        assert.equal(await pgDb.checksum(), baseline, `${fixture.name} changed the table`)
      }
      const exists = await pgDb.client.query(`SELECT to_regclass($1) AS t, to_regclass('stolen') AS s`, [TABLE])
      assert.deepEqual(exists.rows[0], { t: TABLE, s: null })
      assert.equal(existsSync('/tmp/airlock-pwned'), false)
    })

    it('holds without the guard: the read-only transaction refuses writes and is rolled back', async () => {
      const before = await pgDb.checksum()
      const start = trail.entries().length
      const attempt = runStatement({
        client: aws.rdsData({ region: 'eu-west-1', principal }),
        engine: 'postgres',
        mode: 'read-only',
        resourceArn: PG_CLUSTER,
        secretArn: PG_SECRET,
        database: 'test',
        sql: `WITH d AS (DELETE FROM ${TABLE} RETURNING id) SELECT count(*) FROM d`,
        parameters: [],
        timeoutMs: 5000,
        signal: new AbortController().signal,
        progress: () => undefined,
      })
      await assert.rejects(attempt, (e: unknown) => e instanceof UpstreamError && e.code === 'DB_ERROR' && /read-only transaction/.test(e.publicDetail ?? ''))
      assert.deepEqual(actions(trail.entries().slice(start)).at(-1), 'RollbackTransaction:ok')
      assert.equal(await pgDb.checksum(), before)
    })

    it('surfaces the database error text as DB_ERROR, and still rolls back', async () => {
      const { error, calls } = await refused({ sql: `SELECT nope FROM ${TABLE}` }, 'DB_ERROR')
      assert.ok(error instanceof UpstreamError)
      assert.match(error.publicDetail ?? '', /column "nope" does not exist/)
      assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
    })

    it('times out as DB_TIMEOUT and rolls the transaction back', async () => {
      const { calls } = await refused({ sql: 'SELECT pg_sleep(3)' }, 'DB_TIMEOUT', { grant: grant({ mode: 'read-write', timeoutSeconds: 1 }) })
      assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
      assert.ok(!actions(calls).some((a) => a.startsWith('CommitTransaction')))
    })

    it('honours cancellation: CANCELLED, and the transaction is still rolled back', async () => {
      const controller = new AbortController()
      const { calls } = await refused({ sql: `SELECT id FROM ${TABLE}` }, 'CANCELLED', {
        signal: controller.signal,
        progress: (u) => {
          if (u.message === 'executing') controller.abort()
        },
      })
      assert.deepEqual(actions(calls)[0], 'BeginTransaction:ok')
      assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
      assert.equal(actions(calls).filter((a) => a.startsWith('ExecuteStatement')).length, 2)
    })

    it('maps a credential the emulator does not know to AWS_CREDENTIALS', async () => {
      const stranger = createAwsClients({ credentials: async () => ({ accessKeyId: 'AKIAIOSFODNN7UNKNOWN', secretAccessKey: KEY.secretAccessKey }), endpoints: { rdsData: emulator.endpoint } })
      const c = { ...ctx({ sql: 'SELECT 1' }), deps: { aws: stranger, clock: systemClock } }
      await assert.rejects(sqlQuery.handler(c), (e: unknown) => e instanceof UpstreamError && e.code === 'AWS_CREDENTIALS' && e.publicDetail === undefined)
    })

    it('reports a result over the Data API size limit as RESULT_TOO_LARGE, and rolls back', async () => {
      const { calls } = await refused({ sql: "SELECT repeat('x', 100000) FROM generate_series(1, 20)" }, 'RESULT_TOO_LARGE')
      assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
    })

    it('maps an unknown cluster to AWS_NOT_FOUND', async () => {
      const missing = connection({ engine: 'postgres', resourceArn: 'arn:aws:rds:eu-west-1:111122223333:cluster:missing', secretArn: PG_SECRET })
      await refused({ sql: 'SELECT 1' }, 'AWS_NOT_FOUND', { connection: missing })
    })
  })

  describe('MySQL', () => {
    it('returns typed columns in a transaction that is rolled back', async () => {
      const { result, calls } = await run({ sql: `SELECT id, owner, balance, active FROM ${TABLE} WHERE id = :id`, parameters: { id: 1 } }, { connection: myConn })
      const columns = z.array(z.object({ name: z.string(), type: z.string() })).parse(result.structured?.['columns'])
      assert.deepEqual(columns.map((c) => c.name), ['id', 'owner', 'balance', 'active'])
      const rows = z.array(z.array(z.unknown())).parse(result.structured?.['rows'])
      assert.equal(rows.length, 1)
      assert.equal(rows[0]?.[0], 1)
      assert.equal(rows[0]?.[1], 'ada')
      assert.equal(rows[0]?.[2], '10.50')
      assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'RollbackTransaction:ok'])
    })

    it('binds parameters as data', async () => {
      const before = await myDb.checksum()
      const injection = `x' OR '1'='1'; DROP TABLE ${TABLE}; -- `
      const { result } = await run({ sql: `SELECT id FROM ${TABLE} WHERE owner = :owner`, parameters: { owner: injection } }, { connection: myConn })
      assert.deepEqual(result.structured?.['rows'], [])
      assert.equal(await myDb.checksum(), before)
    })

    it('performs DML for a read-write grant', async () => {
      const { result, calls } = await run({ sql: `UPDATE ${TABLE} SET note = :note WHERE id = :id`, parameters: { note: 'changed', id: 5 } }, { connection: myConn, grant: readWrite })
      assert.equal(result.structured?.['rowCount'], 1)
      assert.deepEqual(actions(calls).at(-1), 'CommitTransaction:ok')
      const [rows] = await myDb.connection.query(`SELECT note FROM ${TABLE} WHERE id = 5`)
      assert.deepEqual(JSON.parse(JSON.stringify(rows)), [{ note: 'changed' }])
      await myDb.connection.query(`UPDATE ${TABLE} SET note = 'plain' WHERE id = 5`)
    })

    it('refuses every read-only bypass fixture before any AWS call, leaving the table unchanged', async () => {
      const baseline = await myDb.checksum()
      for (const fixture of mysqlBypasses) {
        const { calls } = await refused({ sql: withTable(fixture.sql) }, fixture.code, { connection: myConn })
        assert.equal(calls.length, 0, `${fixture.name} reached AWS`)
        assert.equal(await myDb.checksum(), baseline, `${fixture.name} changed the table`)
      }
      assert.equal(existsSync('/tmp/airlock-x'), false)
    })

    it('holds without the guard: a write in the read-only call is rolled back', async () => {
      const before = await myDb.checksum()
      const { output, rolledBack } = await runStatement({
        client: aws.rdsData({ region: 'eu-west-1', principal }),
        engine: 'mysql',
        mode: 'read-only',
        resourceArn: MY_CLUSTER,
        secretArn: MY_SECRET,
        database: 'test',
        sql: `DELETE FROM ${TABLE}`,
        parameters: [],
        timeoutMs: 5000,
        signal: new AbortController().signal,
        progress: () => undefined,
      })
      assert.equal(output.numberOfRecordsUpdated, 5)
      assert.equal(rolledBack, true)
      assert.equal(await myDb.checksum(), before)
    })

    it('surfaces the database error text as DB_ERROR', async () => {
      const { error, calls } = await refused({ sql: `SELECT nope FROM ${TABLE}` }, 'DB_ERROR', { connection: myConn })
      assert.ok(error instanceof UpstreamError)
      assert.match(error.publicDetail ?? '', /Unknown column 'nope'/)
      assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
    })
  })
})
