import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ExecuteStatementCommand, type Field } from '@aws-sdk/client-rds-data'
import { GuardError, UpstreamError } from '../../../src/errors.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import { judgePostgresReadOnlySetup, parsePostgresMilliseconds, postgresReadOnlySetup } from '../../../tools/sql-query/postgres-read-only-setup.js'
import { actions, PG_CLUSTER, PG_SECRET, principal, startSqlQueryHarness, type SqlQueryHarness } from '../support/sql-query-harness.js'

const s = (stringValue: string): Field => ({ stringValue })
const answer = (...row: Field[]): Field[][] => [row]

describe('PostgreSQL read-only set-up in one statement: the real server', () => {
  let h: SqlQueryHarness
  let probe: Awaited<ReturnType<typeof checkSql>>['builtinProbe']
  const seq = () => `${h.table}_seq`
  const fn = () => `${h.table}_wipe`
  before(async () => {
    h = await startSqlQueryHarness('postgres')
    await h.query(`CREATE SEQUENCE ${seq()}`)
    await h.query(`CREATE FUNCTION ${fn()}() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DELETE FROM ${h.table}; RETURN 1; END $$`)
    probe = (await checkSql({ engine: 'postgres', sql: `SELECT lower(owner) FROM ${h.table}`, mode: 'read-only' })).builtinProbe
    assert.ok(probe !== undefined, 'the read resolves names, so the guard gives it a probe')
  })
  after(async () => {
    await h.query(`DROP FUNCTION IF EXISTS ${fn()}()`)
    await h.query(`DROP SEQUENCE IF EXISTS ${seq()}`)
    await h.close()
  })

  const writes = () => [
    `DELETE FROM ${h.table}`,
    `UPDATE ${h.table} SET balance = 0`,
    `INSERT INTO ${h.table} (id, owner) VALUES (99, 'x')`,
    `WITH d AS (DELETE FROM ${h.table} RETURNING id) SELECT count(*) FROM d`,
    `CREATE TABLE ${h.table}_ddl (id int)`,
    `SELECT nextval('${seq()}')`,
    `SELECT * FROM ${h.table} FOR UPDATE`,
    `SELECT ${fn()}()`,
    // The way back to read-write is closed once the set-up has run.
    "SELECT set_config('transaction_read_only', 'off', true)",
    'SET TRANSACTION READ WRITE',
  ]

  for (const withProbe of [false, true]) {
    it(`makes the Data API transaction read-only: the server refuses every write with the guard bypassed (${withProbe ? 'with' : 'without'} the probe)`, async () => {
      const before = await h.checksum()
      for (const sql of writes()) {
        const start = h.trail.entries().length
        await assert.rejects(h.unguarded(sql, withProbe && probe !== undefined ? { builtinProbe: probe } : {}), (e: unknown) => {
          assert.ok(e instanceof UpstreamError && e.code === 'DB_ERROR', `${sql}: expected DB_ERROR, got ${String(e)}`)
          assert.match(e.publicDetail ?? '', /read-only transaction|read-write mode must be set before any query/, `${sql}: the server's read-only mode, not something else, stopped it`)
          return true
        })
        // One set-up statement, then the caller's: the write reached the server and was refused there.
        assert.deepEqual(actions(h.trail.entries().slice(start)), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'ExecuteStatement:DatabaseErrorException', 'RollbackTransaction:ok'], sql)
        assert.equal(await h.checksum(), before, `${sql} changed the table`)
      }
      assert.deepEqual(await h.query(`SELECT to_regclass('${h.table}_ddl')::text AS t, (SELECT last_value FROM ${seq()})::int AS v, (SELECT is_called FROM ${seq()}) AS called`), [
        { t: null, v: 1, called: false },
      ])
    })
  }

  it('still reads, with the probe finding nothing user-defined', async () => {
    const { output } = await h.unguarded(`SELECT owner FROM ${h.table} WHERE id = 1`, probe === undefined ? {} : { builtinProbe: probe })
    assert.deepEqual(output.records, [[{ stringValue: 'ada' }]])
  })

  it("applies the grant's timeout to the caller's statement: the database stops a longer pg_sleep", async () => {
    const started = performance.now()
    const start = h.trail.entries().length
    await assert.rejects(h.unguarded('SELECT pg_sleep(3)', { timeoutMs: 500 }), (e: unknown) => {
      assert.ok(e instanceof UpstreamError && e.code === 'DB_TIMEOUT', `expected DB_TIMEOUT, got ${String(e)}`)
      return true
    })
    assert.ok(performance.now() - started < 2500, 'stopped near the 500 ms limit, not after the 3 s sleep')
    // The database's statement_timeout answered (the emulator reports it as the service does), not
    // the client's deadline, which waits 1 s longer and would leave the statement unanswered.
    assert.deepEqual(actions(h.trail.entries().slice(start)), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'ExecuteStatement:StatementTimeoutException', 'RollbackTransaction:ok'])
  })

  it('reads back the statement_timeout in the unit the server prints it in', async () => {
    const client = h.aws.rdsData({ region: 'eu-west-1', principal })
    for (const ms of [1, 999, 1000, 1500, 60_000, 90_000, 3_600_000, 86_400_000]) {
      const setup = postgresReadOnlySetup(ms, undefined)
      const out = await client.send(new ExecuteStatementCommand({ resourceArn: PG_CLUSTER, secretArn: PG_SECRET, database: 'test', sql: setup.sql, parameters: setup.parameters }))
      assert.doesNotThrow(() => judgePostgresReadOnlySetup(out.records, ms), `${ms} ms: ${JSON.stringify(out.records)}`)
      assert.throws(() => judgePostgresReadOnlySetup(out.records, ms + 1), (e: unknown) => e instanceof UpstreamError && e.code === 'DB_ERROR', `${ms} ms judged as ${ms + 1}`)
    }
  })
})

describe('judgePostgresReadOnlySetup fails closed on anything but the confirmed settings', () => {
  const ok = answer(s('on'), s('1500ms'), s('on'), s('[]'))
  const dbError = (e: unknown) => e instanceof UpstreamError && e.code === 'DB_ERROR' && e.publicDetail === undefined

  it('accepts the confirmed settings and an empty probe', () => {
    assert.doesNotThrow(() => judgePostgresReadOnlySetup(ok, 1500))
    assert.doesNotThrow(() => judgePostgresReadOnlySetup(answer(s('on'), s('2min'), s('on'), s('[]')), 120_000))
  })

  const refused: [string, Field[][] | undefined][] = [
    ['no records', undefined],
    ['no row', []],
    ['two rows', [...ok, ...ok]],
    ['three columns', answer(s('on'), s('1500ms'), s('on'))],
    ['five columns', answer(s('on'), s('1500ms'), s('on'), s('[]'), s('x'))],
    ['read-only off', answer(s('off'), s('1500ms'), s('on'), s('[]'))],
    ['read-only null', answer({ isNull: true }, s('1500ms'), s('on'), s('[]'))],
    ['another timeout', answer(s('on'), s('1501ms'), s('on'), s('[]'))],
    ['no timeout', answer(s('on'), s('0'), s('on'), s('[]'))],
    ['timeout in an unknown unit', answer(s('on'), s('1500us'), s('on'), s('[]'))],
    ['standard strings off', answer(s('on'), s('1500ms'), s('off'), s('[]'))],
    ['probe not JSON', answer(s('on'), s('1500ms'), s('on'), s('not json'))],
    ['probe missing', answer(s('on'), s('1500ms'), s('on'), { isNull: true })],
    ['probe not a list', answer(s('on'), s('1500ms'), s('on'), s('{}'))],
    ['probe rows not lists', answer(s('on'), s('1500ms'), s('on'), s('["function x"]'))],
  ]
  for (const [name, records] of refused) {
    it(`refuses with DB_ERROR: ${name}`, () => {
      assert.throws(() => judgePostgresReadOnlySetup(records, 1500), dbError, name)
    })
  }

  it('refuses with SQL_FUNCTION_NOT_BUILTIN when the probe found user-defined code, naming it', () => {
    const found = answer(s('on'), s('1500ms'), s('on'), s('[["function","public.lower(integer)"],["cast",null]]'))
    assert.throws(
      () => judgePostgresReadOnlySetup(found, 1500),
      (e: unknown) => e instanceof GuardError && e.code === 'SQL_FUNCTION_NOT_BUILTIN' && e.message.includes('function public.lower(integer), cast ?'),
    )
  })

  it('reads PostgreSQL millisecond displays', () => {
    const cases: [string | undefined, number | undefined][] = [
      ['1ms', 1],
      ['1500ms', 1500],
      ['5s', 5000],
      ['2min', 120_000],
      ['1h', 3_600_000],
      ['3d', 259_200_000],
      ['0', undefined],
      ['1.5s', undefined],
      ['-5s', undefined],
      [' 5s', undefined],
      ['5 s', undefined],
      ['', undefined],
      [undefined, undefined],
    ]
    for (const [text, ms] of cases) assert.equal(parsePostgresMilliseconds(text), ms, String(text))
  })
})
