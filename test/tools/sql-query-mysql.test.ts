import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { BeginTransactionCommand, ExecuteStatementCommand, RollbackTransactionCommand } from '@aws-sdk/client-rds-data'
import { z } from 'zod'
import { systemClock } from '../../src/clock.js'
import { UpstreamError } from '../../src/errors.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import { mysqlBypasses } from '../guard/sql/sql-fixtures.js'
import { actions, grant, MY_CLUSTER, MY_SECRET, principal, readWrite, startSqlQueryHarness, type SqlQueryHarness } from './support/sql-query-harness.js'

describe('sql_query on MariaDB (RDS Data API emulator)', () => {
  let h: SqlQueryHarness
  before(async () => {
    h = await startSqlQueryHarness('mysql')
  })
  after(() => h.close())

  it('returns typed columns in a transaction that is rolled back', async () => {
    const { result, calls } = await h.run({ sql: `SELECT id, owner, balance, active FROM ${h.table} WHERE id = :id`, parameters: { id: 1 } })
    const columns = z.array(z.object({ name: z.string(), type: z.string() })).parse(result.structured?.['columns'])
    assert.deepEqual(columns.map((c) => c.name), ['id', 'owner', 'balance', 'active'])
    const rows = z.array(z.array(z.unknown())).parse(result.structured?.['rows'])
    assert.equal(rows.length, 1)
    assert.equal(rows[0]?.[0], 1)
    assert.equal(rows[0]?.[1], 'ada')
    assert.equal(rows[0]?.[2], '10.50')
    // The read-only transaction, the gateway's time limit (after a one-time VERSION() per cluster), then the statement.
    assert.match(actions(calls).join(), /^BeginTransaction:ok,(ExecuteStatement:ok,){3,4}RollbackTransaction:ok$/)
  })

  it('asks a cluster whether it is MariaDB once per gateway, not once per call or per process', async () => {
    await h.run({ sql: 'SELECT 1 AS one' })
    const { calls } = await h.run({ sql: 'SELECT 2 AS two' })
    // Known by now: the read-only transaction, the time limit, then the statement.
    assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'ExecuteStatement:ok', 'ExecuteStatement:ok', 'RollbackTransaction:ok'])
    const fresh = createToolDeps({ aws: h.aws, clock: systemClock })
    assert.equal(fresh.mysqlFlavours.get([MY_CLUSTER]), undefined, 'a new gateway starts with nothing cached')
    await h.unguarded('SELECT 3 AS three', { mysqlFlavours: fresh.mysqlFlavours })
    assert.equal(fresh.mysqlFlavours.get([MY_CLUSTER]), true)
  })

  it('binds parameters as data', async () => {
    const before = await h.checksum()
    const injection = `x' OR '1'='1'; DROP TABLE ${h.table}; -- `
    const { result } = await h.run({ sql: `SELECT id FROM ${h.table} WHERE owner = :owner`, parameters: { owner: injection } })
    assert.deepEqual(result.structured?.['rows'], [])
    assert.equal(await h.checksum(), before)
  })

  it('performs DML for a read-write grant', async () => {
    const { result, calls } = await h.run({ sql: `UPDATE ${h.table} SET note = :note WHERE id = :id`, parameters: { note: 'changed', id: 5 } }, { grant: readWrite })
    assert.equal(result.structured?.['rowCount'], 1)
    assert.deepEqual(actions(calls).at(-1), 'CommitTransaction:ok')
    assert.deepEqual(await h.query(`SELECT note FROM ${h.table} WHERE id = 5`), [{ note: 'changed' }])
    await h.query(`UPDATE ${h.table} SET note = 'plain' WHERE id = 5`)
  })

  it('refuses account management and triggers for a read-write grant, before any AWS call', async () => {
    const user = `${h.table}_u`
    for (const sql of [`CREATE USER ${user}`, `CREATE TRIGGER ${user} BEFORE INSERT ON ${h.table} FOR EACH ROW SET NEW.note = 'x'`, 'CALL airlock_wipe()']) {
      const { calls } = await h.refused({ sql }, 'SQL_NOT_ALLOWED', { grant: readWrite })
      assert.equal(calls.length, 0, `${sql} reached AWS`)
    }
    assert.deepEqual(await h.query(`SELECT COUNT(*) AS n FROM mysql.user WHERE user = '${user}'`), [{ n: 0 }])
  })

  it('refuses every read-only bypass fixture before any AWS call, leaving the table unchanged', async () => {
    const baseline = await h.checksum()
    for (const fixture of mysqlBypasses) {
      const { calls } = await h.refused({ sql: fixture.sql.replace(/\baccounts\b/g, h.table) }, fixture.code)
      assert.equal(calls.length, 0, `${fixture.name} reached AWS`)
      assert.equal(await h.checksum(), baseline, `${fixture.name} changed the table`)
    }
    assert.equal(existsSync('/tmp/airlock-x'), false)
  })

  it('holds without the guard: the database refuses writes in the read-only call', async () => {
    const before = await h.checksum()
    const t = h.table
    const writes = [
      `DELETE FROM ${t}`,
      `UPDATE ${t} SET balance = 0`,
      `INSERT INTO ${t} (id, owner) VALUES (99, 'x')`,
      `INSERT INTO ${t} (id, owner) SELECT id + 100, owner FROM ${t}`,
      `REPLACE INTO ${t} (id, owner) VALUES (1, 'x')`,
      `SELECT * FROM ${t} FOR UPDATE`,
    ]
    for (const sql of writes) {
      const smuggled = h.unguarded(sql)
      await assert.rejects(smuggled, (e: unknown) => {
        assert.ok(e instanceof UpstreamError && e.code === 'DB_ERROR', `${sql}: expected DB_ERROR, got ${String(e)}`)
        assert.match(e.message, /READ ONLY transaction/, `${sql}: the database, not the closing rollback, stopped it`)
        return true
      })
      assert.equal(await h.checksum(), before, `${sql} changed the table`)
    }
  })

  it('cannot make a begun Data API transaction read-only, but can start a read-only one on its connection', async () => {
    const client = h.aws.rdsData({ region: 'eu-west-1', principal })
    const base = { resourceArn: MY_CLUSTER, secretArn: MY_SECRET, database: 'test' }
    const { transactionId } = await client.send(new BeginTransactionCommand(base))
    const run = (sql: string) => client.send(new ExecuteStatementCommand({ ...base, sql, transactionId }))
    try {
      // MySQL and MariaDB refuse to change a begun transaction (error 1568): why the gateway does not use SET TRANSACTION.
      await assert.rejects(run('SET TRANSACTION READ ONLY'), /can't be changed while a transaction is in progress/)
      // SET SESSION only reaches the next transaction: this one still writes.
      await run('SET SESSION TRANSACTION READ ONLY')
      const wrote = await run(`UPDATE ${h.table} SET note = note WHERE id = 1`)
      assert.equal(wrote.numberOfRecordsUpdated, 1, 'the UPDATE ran in the begun transaction (it matched one row and changed nothing)')
      await run('SET SESSION TRANSACTION READ WRITE')
      await run('START TRANSACTION READ ONLY')
      await assert.rejects(run(`UPDATE ${h.table} SET note = note WHERE id = 1`), /READ ONLY transaction/)
    } finally {
      await client.send(new RollbackTransactionCommand({ ...base, transactionId }))
    }
  })

  it('refuses reading masked columns other than as is, and masks them when selected as is', async () => {
    const masking = grant({ mode: 'read-only', maskColumns: { [`${h.table}.owner`]: 'last4', '*.email': 'redact' } })
    const t = h.table
    for (const sql of [`SELECT owner AS o FROM ${t}`, `SELECT REPLACE(email, '@', ' at ') AS e FROM ${t}`, `SELECT id FROM ${t} WHERE owner LIKE 'a%'`, `SELECT owner FROM ${t} ORDER BY 1`]) {
      const { calls } = await h.refused({ sql }, 'SQL_MASKED_COLUMN', { grant: masking })
      assert.equal(calls.length, 0, `${sql} reached AWS`)
    }
    for (const sql of [`SELECT id, owner, email FROM ${t} WHERE id = 1`, `SELECT * FROM ${t} WHERE id = 1`, `SELECT c.* FROM ${t} c WHERE c.id = 1`]) {
      const { result } = await h.run({ sql }, { grant: masking })
      const text = JSON.stringify(result.structured) + result.text
      assert.ok(!text.includes('ada') && !text.includes('@example'), `${sql}: ${text}`)
      assert.match(text, /\[redacted\]/)
    }
  })

  it('surfaces the database error text as DB_ERROR', async () => {
    const { error, calls } = await h.refused({ sql: `SELECT nope FROM ${h.table}` }, 'DB_ERROR')
    assert.ok(error instanceof UpstreamError, 'expected: error instanceof UpstreamError')
    assert.match(error.publicDetail ?? '', /Unknown column 'nope'/)
    assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
  })

  it('times out as DB_TIMEOUT on the gateway\'s own deadline, and never commits', async () => {
    const { calls } = await h.refused({ sql: 'SELECT SLEEP(3)' }, 'DB_TIMEOUT', { grant: grant({ mode: 'read-write', timeoutSeconds: 1 }) })
    assert.deepEqual(actions(calls).at(-1), 'RollbackTransaction:ok')
    assert.ok(!actions(calls).some((a) => a.startsWith('CommitTransaction')), 'expected: !actions(calls).some((a) => a.startsWith(\'CommitTransaction\'))')
  })
})
