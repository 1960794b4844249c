import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import { callerError } from '../../src/mcp/tool-error-text.js'
import { grant, startSqlQueryHarness, type SqlQueryHarness } from './support/sql-query-harness.js'

// The guard's catalog refusals matter only if the database would answer: the emulator's user is
// privileged (superuser / root), so with the grant's opt-in the same statements return password
// hashes and other sessions' SQL. Without it they are refused before any AWS call.

const rows = (structured: Record<string, unknown> | undefined) => z.array(z.array(z.unknown())).parse(structured?.['rows'])

describe('sql_query and system catalogs on PostgreSQL (RDS Data API emulator, privileged user)', () => {
  let h: SqlQueryHarness
  let role: string
  before(async () => {
    h = await startSqlQueryHarness('postgres')
    role = `${h.table}_role`
    await h.query(`CREATE ROLE ${role} LOGIN PASSWORD 'airlock-catalog-test'`)
  })
  after(async () => {
    await h?.query(`DROP ROLE IF EXISTS ${role}`)
    await h?.close()
  })

  it('refuses password hashes, other sessions and settings before any AWS call, naming the opt-in', async () => {
    for (const sql of [`SELECT rolname, rolpassword FROM pg_authid WHERE rolname = '${role}'`, 'SELECT query FROM pg_stat_activity', "SELECT current_setting('hba_file')", 'SHOW ALL']) {
      for (const mode of ['read-only', 'read-write'] as const) {
        const { error, calls } = await h.refused({ sql }, 'SQL_SYSTEM_CATALOG', { grant: grant({ mode }) })
        assert.equal(calls.length, 0, `${sql} reached AWS`)
        const caller = callerError(error)
        assert.equal(caller.code, 'SQL_SYSTEM_CATALOG')
        assert.match(caller.text, /allowSystemCatalogs/)
      }
    }
  })

  it('returns them to a grant that opts in: the refusal is what kept the hash back', async () => {
    const dba = grant({ mode: 'read-only', allowSystemCatalogs: true })
    const { result } = await h.run({ sql: `SELECT rolname, rolpassword FROM pg_authid WHERE rolname = '${role}'` }, { grant: dba })
    const [row] = rows(result.structured)
    assert.equal(row?.[0], role)
    assert.match(String(row?.[1]), /^(SCRAM-SHA-256\$|md5)/, 'the opted-in grant reads the password hash')
    const { result: activity } = await h.run({ sql: 'SELECT count(*)::int FROM pg_stat_activity WHERE query IS NOT NULL' }, { grant: dba })
    assert.ok(Number(rows(activity.structured)[0]?.[0]) > 0, 'the opted-in grant sees sessions and their SQL')
  })

  it('keeps the harmless catalog reads for every grant, on the real server', async () => {
    const { result } = await h.run({ sql: `SELECT column_name FROM information_schema.columns WHERE table_name = '${h.table}' ORDER BY ordinal_position` })
    assert.deepEqual(rows(result.structured).map((r) => r[0]), ['id', 'owner', 'email', 'balance', 'created', 'active', 'tags', 'note'])
  })

  it('refuses locking or granting on a system catalog even with the opt-in, before any AWS call', async () => {
    const dba = grant({ mode: 'read-write', allowSystemCatalogs: true })
    for (const sql of ['LOCK TABLE pg_catalog.pg_authid', 'GRANT SELECT ON pg_authid TO PUBLIC', `REVOKE SELECT ON pg_catalog.pg_class FROM ${role}`]) {
      const { calls } = await h.refused({ sql }, 'SQL_NOT_ALLOWED', { grant: dba })
      assert.equal(calls.length, 0, `${sql} reached AWS`)
    }
    const acl = await h.query("SELECT relacl::text AS acl FROM pg_class WHERE oid = 'pg_catalog.pg_authid'::regclass")
    assert.doesNotMatch(JSON.stringify(acl), /=r\//, 'pg_authid stays unreadable to PUBLIC')
  })
})

describe('sql_query and system tables on MariaDB (RDS Data API emulator, privileged user)', () => {
  let h: SqlQueryHarness
  let user: string
  before(async () => {
    h = await startSqlQueryHarness('mysql')
    user = `${h.table}_u`
    await h.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY 'airlock-catalog-test'`)
  })
  after(async () => {
    await h?.query(`DROP USER IF EXISTS '${user}'@'localhost'`)
    await h?.close()
  })

  it('refuses password hashes and the process list before any AWS call, and returns them to a grant that opts in', async () => {
    const sql = `SELECT user, authentication_string FROM mysql.user WHERE user = '${user}'`
    for (const attempt of [sql, 'SELECT info FROM information_schema.PROCESSLIST', 'SHOW PROCESSLIST']) {
      const { calls } = await h.refused({ sql: attempt }, 'SQL_SYSTEM_CATALOG')
      assert.equal(calls.length, 0, `${attempt} reached AWS`)
    }
    const { result } = await h.run({ sql }, { grant: grant({ allowSystemCatalogs: true }) })
    const [row] = rows(result.structured)
    assert.equal(row?.[0], user)
    assert.match(String(row?.[1]), /^\*[0-9A-F]{40}$/, 'the opted-in grant reads the password hash')
  })

  it('refuses writes to mysql.* even with the opt-in, before any AWS call', async () => {
    const { calls } = await h.refused({ sql: `UPDATE mysql.global_priv SET priv = '{}' WHERE user = '${user}'` }, 'SQL_NOT_ALLOWED', {
      grant: grant({ mode: 'read-write', allowSystemCatalogs: true }),
    })
    assert.equal(calls.length, 0)
  })

  it('keeps the harmless schema reads', async () => {
    const { result } = await h.run({ sql: `SELECT COUNT(*) FROM information_schema.COLUMNS WHERE table_name = '${h.table}'` })
    assert.equal(Number(rows(result.structured)[0]?.[0]), 7)
  })
})
