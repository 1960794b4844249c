import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { systemClock } from '../../src/clock.js'
import { UpstreamError } from '../../src/errors.js'
import { grantSchema } from '../../src/policy/policy-schema.js'
import { resolveGrant } from '../../src/policy/resolve-grant.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { ProgressUpdate } from '../../tools/define-tool.js'
import sqlQuery from '../../tools/sql-query.js'
import { postgresBypasses, postgresReads } from '../guard/sql/sql-fixtures.js'
import {
  actions,
  connection,
  GATEWAY,
  grant,
  KEY,
  PG_RO_SECRET,
  PG_SECRET,
  pgConnWithReader,
  readOnly,
  readWrite,
  startSqlQueryHarness,
  type SqlQueryHarness,
} from './support/sql-query-harness.js'

describe('sql_query on PostgreSQL (RDS Data API emulator)', () => {
  let h: SqlQueryHarness
  before(async () => {
    h = await startSqlQueryHarness('postgres')
  })
  after(() => h.close())

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


  it('returns typed columns in a read-only transaction that is rolled back', async () => {
    const updates: ProgressUpdate[] = []
    const { result, calls } = await h.run(
      { sql: `SELECT id, owner, balance, created, active, tags FROM ${h.table} WHERE id <= 2 ORDER BY id` },
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
    assert.equal(z.strictObject(sqlQuery.output ?? {}).safeParse(result.structured).success, true)
    assert.match(result.text, /^id \| owner \| balance \| created \| active \| tags\n1 \| ada \| 10\.50 \|/)
    // Four Data API calls: one set-up statement (read-only, the time limit, the catalog probe for built-ins), then the statement.
    assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'ExecuteStatement:ok', 'RollbackTransaction:ok'])
    assert.ok(calls.every((c) => c.principalArn === GATEWAY && c.detail?.['secretArn'] === PG_SECRET), 'expected: calls.every((c) => c.principalArn === GATEWAY && c.detail?.[\'secretArn\'] === PG_SECRET)')
    assert.ok(updates.some((u) => u.message === 'fetched 2 rows'), 'expected: updates.some((u) => u.message === \'fetched 2 rows\')')
    assert.equal(result.audit?.['rolledBack'], true)
    assert.deepEqual(result.audit?.['tables'], [h.table])
  })

  it('uses the read-only secret for read-only grants when the connection has one', async () => {
    const { calls } = await h.run({ sql: `SELECT count(*) FROM ${h.table}` }, { connection: pgConnWithReader })
    assert.ok(calls.length > 0 && calls.every((c) => c.detail?.['secretArn'] === PG_RO_SECRET), 'expected: calls.length > 0 && calls.every((c) => c.detail?.[\'secretArn\'] === PG_RO_SECRET)')
    const write = await h.run({ sql: `SELECT count(*) FROM ${h.table}` }, { connection: pgConnWithReader, grant: readWrite })
    assert.ok(write.calls.every((c) => c.detail?.['secretArn'] === PG_SECRET), 'expected: write.calls.every((c) => c.detail?.[\'secretArn\'] === PG_SECRET)')
  })

  it('caps rows at maxRows and says so', async () => {
    const { result } = await h.run({ sql: `SELECT id FROM ${h.table} ORDER BY id` }, { grant: grant({ maxRows: 2 }) })
    assert.deepEqual(result.structured?.['rows'], [[1], [2]])
    assert.equal(result.structured?.['rowCount'], 2)
    assert.equal(result.structured?.['truncated'], true)
    assert.match(result.text, /truncated at the grant's limit of 2/)
    assert.equal(result.audit?.['rowsReturnedByDatabase'], 5)
  })

  it('masks columns and detected values before returning', async () => {
    const g = grant({ maskColumns: { '*.email': 'redact', owner: 'last4' } })
    const { result } = await h.run({ sql: `SELECT id, owner, email, note FROM ${h.table} ORDER BY id` }, { grant: g })
    const rows = z.array(z.array(z.unknown())).parse(result.structured?.['rows'])
    assert.deepEqual(rows[0], [1, '••••', '[redacted]', 'vip'])
    assert.deepEqual(rows[1], [2, '••••', '[redacted]', 'card [redacted:card] on file'])
    assert.deepEqual(rows[2], [3, '••••', null, null])
    assert.deepEqual(rows[3], [4, '••••', '[redacted]', 'key [redacted:aws-access-key-id]'])
    assert.doesNotMatch(result.text, /@example|4111|AKIA/)
    assert.deepEqual(result.audit?.['masking'], { maskedColumns: { owner: 'last4', email: 'redact' }, detectors: ['awsKeys', 'cardNumbers'], redactedCells: 2 })
  })

  it('binds parameters as data: an injection string matches nothing and drops nothing', async () => {
    const before = await h.checksum()
    const injection = `ada'; DROP TABLE ${h.table}; --`
    const { result } = await h.run({ sql: `SELECT id FROM ${h.table} WHERE owner = :owner OR id = :id`, parameters: { owner: injection, id: 3 } })
    assert.deepEqual(result.structured?.['rows'], [[3]])
    assert.equal(await h.checksum(), before)
    assert.deepEqual(result.audit?.['parameterNames'], ['owner', 'id'])
    assert.doesNotMatch(JSON.stringify(result.audit), /DROP/)
  })

  it('performs DML for a read-write grant and commits it', async () => {
    const { result, calls } = await h.run({ sql: `UPDATE ${h.table} SET balance = balance + :add WHERE id = :id`, parameters: { add: 1, id: 5 } }, { grant: readWrite })
    assert.deepEqual(result.structured, { columns: [], rows: [], rowCount: 1, truncated: false })
    assert.equal(z.strictObject(sqlQuery.output ?? {}).safeParse(result.structured).success, true)
    assert.match(result.text, /1 row affected/)
    assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'ExecuteStatement:ok', 'CommitTransaction:ok'])
    assert.deepEqual(await h.query(`SELECT balance FROM ${h.table} WHERE id = 5`), [{ balance: '6.25' }])
    await h.query(`UPDATE ${h.table} SET balance = 5.25 WHERE id = 5`)
  })

  it('refuses a grant without sql limits (a built policy always sets them), before any AWS call', async () => {
    const bare = resolveGrant(grantSchema.parse({ id: 'bare', groups: ['data'], connections: ['db'], tools: ['sql_query'] }))
    const { calls } = await h.refused({ sql: 'SELECT 1' }, 'POLICY_DENIED', { grant: bare })
    assert.equal(calls.length, 0)
  })

  it('refuses statements a read-write grant never allows, before any AWS call', async () => {
    const { calls } = await h.refused({ sql: `COPY ${h.table} TO PROGRAM 'touch /tmp/airlock-sq-pwned'` }, 'SQL_NOT_ALLOWED', { grant: readWrite })
    assert.equal(calls.length, 0)
    assert.equal(existsSync('/tmp/airlock-sq-pwned'), false)
  })

  it('refuses stored code and pg_temp objects for a read-write grant, before any AWS call', async () => {
    const fn = `${h.table}_fn`
    const attempts = [
      `CREATE FUNCTION ${fn}() RETURNS int LANGUAGE plpgsql AS $f$ BEGIN PERFORM set_config('role', 'postgres', false); RETURN 1; END $f$`,
      `CREATE PROCEDURE ${fn}() LANGUAGE sql AS $$ DELETE FROM ${h.table} $$`,
      `CALL ${fn}()`,
      `CREATE TRIGGER ${fn} AFTER INSERT ON ${h.table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
      `CREATE RULE ${fn} AS ON INSERT TO ${h.table} DO INSTEAD NOTHING`,
      `CREATE TABLE pg_temp.${h.table} (id int)`,
    ]
    for (const sql of attempts) {
      const { calls } = await h.refused({ sql }, 'SQL_NOT_ALLOWED', { grant: readWrite })
      assert.equal(calls.length, 0, `${sql} reached AWS`)
    }
    assert.deepEqual(await h.query(`SELECT count(*)::int AS n FROM pg_catalog.pg_proc WHERE proname = '${fn}'`), [{ n: 0 }])
    assert.deepEqual(await h.query(`SELECT count(*)::int AS n FROM pg_catalog.pg_rewrite WHERE rulename = '${fn}'`), [{ n: 0 }])
  })

  it('runs every read-only read fixture (built-in operators, casts and functions) on the real server', async () => {
    for (const sql of postgresReads) {
      if (/^(SHOW|EXPLAIN)|:id/.test(sql)) continue
      const { result } = await h.run({ sql: sql.replace(/\baccounts\b/g, h.table) })
      assert.ok(Array.isArray(result.structured?.['rows']), sql)
    }
  })

  it('refuses every read-only bypass fixture before any AWS call, leaving the table unchanged', async () => {
    const baseline = await h.checksum()
    for (const fixture of postgresBypasses) {
      const { calls } = await h.refused({ sql: fixture.sql.replace(/\baccounts\b/g, h.table) }, fixture.code)
      assert.equal(calls.length, 0, `${fixture.name} reached AWS`)
      assert.equal(await h.checksum(), baseline, `${fixture.name} changed the table`)
    }
    assert.deepEqual(await h.query(`SELECT to_regclass('${h.table}')::text AS t, to_regclass('stolen')::text AS s`), [{ t: h.table, s: null }])
    assert.equal(existsSync('/tmp/airlock-pwned'), false)
  })

  it('holds without the guard: the read-only transaction refuses writes and is rolled back', async () => {
    const before = await h.checksum()
    const start = h.trail.entries().length
    const attempt = h.unguarded(`WITH d AS (DELETE FROM ${h.table} RETURNING id) SELECT count(*) FROM d`)
    await assert.rejects(attempt, (e: unknown) => e instanceof UpstreamError && e.code === 'DB_ERROR' && /read-only transaction/.test(e.publicDetail ?? ''))
    assert.deepEqual(actions(h.trail.entries().slice(start)).at(-1), 'RollbackTransaction:ok')
    assert.equal(await h.checksum(), before)
  })

  it('surfaces the database error text as DB_ERROR, and still rolls back', async () => {
    const { error, calls } = await h.refused({ sql: `SELECT nope FROM ${h.table}` }, 'DB_ERROR')
    assert.ok(error instanceof UpstreamError, 'expected: error instanceof UpstreamError')
    assert.match(error.publicDetail ?? '', /column "nope" does not exist/)
    assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
  })

  it('does not leak data values through database error text', async () => {
    // No masks here: with masks the guard refuses these before the database sees them (next test).
    const detecting = grant({ mode: 'read-only' })
    const owners = (await h.query(`SELECT owner FROM ${h.table}`)).map((r) => String(Object.values(r as object)[0]))
    assert.ok(owners.length > 0, 'expected: owners.length > 0')
    for (const sql of [`SELECT owner::int FROM ${h.table}`, `SELECT email::int FROM ${h.table} WHERE email IS NOT NULL`]) {
      const { error } = await h.refused({ sql }, 'DB_ERROR', { grant: detecting })
      assert.ok(error instanceof UpstreamError, 'expected: error instanceof UpstreamError')
      const detail = error.publicDetail ?? ''
      assert.match(detail, /invalid input syntax for type integer/)
      for (const owner of owners) assert.ok(!detail.includes(`"${owner}"`), `${detail} leaks ${owner}`)
      assert.ok(!detail.includes('@'), detail)
    }
  })

  it('refuses reading masked columns through aliases, expressions, filters or whole rows, before any AWS call', async () => {
    const masking = grant({ mode: 'read-only', maskColumns: { [`${h.table}.owner`]: 'last4', '*.email': 'redact' } })
    const t = h.table
    const attempts = [
      `SELECT owner AS o, replace(email, '@', ' at ') AS e FROM ${t}`,
      `SELECT row_to_json(c)::text FROM ${t} c`,
      `SELECT c.to_jsonb FROM ${t} c`,
      `SELECT id FROM ${t} WHERE owner LIKE 'a%'`,
      `SELECT email::int FROM ${t} WHERE email IS NOT NULL`,
      `SELECT owner::int FROM ${t}`,
      `SELECT to_jsonb(c.*) FROM ${t} c`,
      `SELECT owner FROM ${t} ORDER BY 1`,
      `SELECT o FROM ${t} AS c(id, o)`,
    ]
    const secrets = [...(await h.query(`SELECT owner, email FROM ${t}`)).flatMap((r) => Object.values(r as object))].filter((v): v is string => typeof v === 'string')
    for (const sql of attempts) {
      const { error, calls } = await h.refused({ sql }, 'SQL_MASKED_COLUMN', { grant: masking })
      assert.equal(calls.length, 0, `${sql} reached AWS`)
      for (const secret of secrets) assert.ok(!error.message.includes(secret), `${error.message} leaks ${secret}`)
    }
    // Only without masks do the same statements read the values, so the refusals above are what protects them.
    const { result: clear } = await h.run({ sql: `SELECT owner AS o FROM ${t} WHERE id = 1` })
    assert.deepEqual(clear.structured?.['rows'], [['ada']])
  })

  it('masks columns selected as is, plain or through *, and keeps other queries working', async () => {
    const masking = grant({ mode: 'read-only', maskColumns: { [`${h.table}.owner`]: 'last4', '*.email': 'redact' } })
    const t = h.table
    for (const sql of [`SELECT id, owner, email FROM ${t} WHERE id = 1`, `SELECT * FROM ${t} WHERE id = 1`, `SELECT c.* FROM ${t} c WHERE c.id = 1`, `SELECT owner AS owner, email FROM ${t} WHERE id = :id`]) {
      const { result } = await h.run({ sql, parameters: sql.includes(':id') ? { id: 1 } : {} }, { grant: masking })
      const text = JSON.stringify(result.structured) + result.text
      assert.ok(!text.includes('ada'), `${sql}: ${text}`)
      assert.ok(!text.includes('@example'), `${sql}: ${text}`)
      assert.match(text, /\[redacted\]/)
    }
    const { result } = await h.run({ sql: `SELECT count(*)::int AS n FROM ${t} WHERE balance > 1` }, { grant: masking })
    assert.deepEqual(result.structured?.['rows'], [[4]])
  })

  it('times out as DB_TIMEOUT and rolls the transaction back', async () => {
    const { calls } = await h.refused({ sql: 'SELECT pg_sleep(3)' }, 'DB_TIMEOUT', { grant: grant({ mode: 'read-write', timeoutSeconds: 1 }) })
    assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
    assert.ok(!actions(calls).some((a) => a.startsWith('CommitTransaction')), 'expected: !actions(calls).some((a) => a.startsWith(\'CommitTransaction\'))')
  })

  it('honours cancellation: CANCELLED, and the transaction is still rolled back', async () => {
    const controller = new AbortController()
    const { calls } = await h.refused({ sql: `SELECT id FROM ${h.table}` }, 'CANCELLED', {
      signal: controller.signal,
      progress: (u) => {
        if (u.message === 'executing') controller.abort()
      },
    })
    assert.deepEqual(actions(calls)[0], 'BeginTransaction:ok')
    assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
    // The set-up statement (read-only, the time limit and the built-in probe) ran; the caller's statement never did.
    assert.equal(actions(calls).filter((a) => a.startsWith('ExecuteStatement')).length, 1)
  })

  it('maps a credential the emulator does not know to AWS_CREDENTIALS', async () => {
    const stranger = createAwsClients({ credentials: async () => ({ accessKeyId: 'AKIAIOSFODNN7UNKNOWN', secretAccessKey: KEY.secretAccessKey }), endpoints: { rdsData: h.endpoint } })
    const c = { ...h.ctx({ sql: 'SELECT 1' }), deps: createToolDeps({ aws: stranger, clock: systemClock }) }
    await assert.rejects(sqlQuery.handler(c), (e: unknown) => e instanceof UpstreamError && e.code === 'AWS_CREDENTIALS' && e.publicDetail === undefined)
  })

  it('reports a result over the Data API size limit as RESULT_TOO_LARGE and never commits', async () => {
    const { calls } = await h.refused({ sql: "SELECT repeat('x', 100000) FROM generate_series(1, 20)" }, 'RESULT_TOO_LARGE')
    // The service itself ends a transaction whose result was too large; the rollback is still sent.
    assert.match(actions(calls).at(-1) ?? '', /^RollbackTransaction:(ok|TransactionNotFoundException)$/)
    assert.ok(!actions(calls).some((a) => a.startsWith('CommitTransaction')), 'expected: !actions(calls).some((a) => a.startsWith(\'CommitTransaction\'))')
  })

  it('maps an unknown cluster to AWS_NOT_FOUND', async () => {
    const missing = connection({ engine: 'postgres', resourceArn: 'arn:aws:rds:eu-west-1:111122223333:cluster:missing', secretArn: PG_SECRET })
    await h.refused({ sql: 'SELECT 1' }, 'AWS_NOT_FOUND', { connection: missing })
  })
})
