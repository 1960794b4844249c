import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError } from '../../../src/errors.js'
import type { GuardErrorCode } from '../../../src/errors.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import type { SqlEngine, SqlMode } from '../../../src/guard/sql/sql-check-request.js'
import { mysqlBypasses, mysqlReads, postgresBypasses, postgresNestedNever, postgresNeverStatements, postgresReads } from './sql-fixtures.js'

async function refusedWith(engine: SqlEngine, mode: SqlMode, sql: string, code: GuardErrorCode): Promise<void> {
  await assert.rejects(checkSql({ engine, sql, mode }), (error: unknown) => {
    assert.ok(error instanceof GuardError, `expected GuardError, got ${String(error)}`)
    assert.equal(error.code, code, `${sql}: ${error.message}`)
    return true
  })
}

describe('checkSql read-only, PostgreSQL', () => {
  it('has at least 40 bypass fixtures', () => assert.ok(postgresBypasses.length >= 40, 'postgresBypasses.length >= 40'))
  for (const fixture of postgresBypasses) {
    it(`refuses ${fixture.name}`, () => refusedWith('postgres', 'read-only', fixture.sql, fixture.code))
  }
  for (const sql of postgresReads) {
    it(`allows ${sql.replace(/\s+/g, ' ').slice(0, 60)}`, async () => {
      const check = await checkSql({ engine: 'postgres', sql, mode: 'read-only' })
      assert.equal(check.engine, 'postgres')
    })
  }
  it('reports the statement kind, tables and functions', async () => {
    const check = await checkSql({ engine: 'postgres', sql: 'SELECT lower(o.owner) FROM app.accounts o JOIN pg_catalog.pg_class c ON true', mode: 'read-only' })
    assert.equal(check.statementKind, 'SelectStmt')
    assert.deepEqual(check.tables, ['app.accounts', 'pg_catalog.pg_class'])
    assert.deepEqual(check.functions, ['lower'])
  })
  it('names what it found in the refusal', async () => {
    await assert.rejects(checkSql({ engine: 'postgres', sql: 'SELECT pg_sleep(1)', mode: 'read-only' }), /pg_sleep/)
    await assert.rejects(checkSql({ engine: 'postgres', sql: 'WITH d AS (DELETE FROM t RETURNING 1) SELECT 1', mode: 'read-only' }), /DeleteStmt/)
  })
  it('finds placeholders after multi-byte text (scanner offsets are UTF-8 bytes)', async () => {
    const check = await checkSql({ engine: 'postgres', sql: "SELECT 'éé😀' AS e, lower(owner) FROM accounts WHERE id = :id AND owner = :owner", mode: 'read-only' })
    assert.deepEqual(check.functions, ['lower'])
    await refusedWith('postgres', 'read-only', "SELECT '😀😀😀😀' || :x, pg_sleep(1)", 'SQL_NOT_READ_ONLY')
  })
  it('keeps `::` casts and strings that look like placeholders intact', async () => {
    const check = await checkSql({ engine: 'postgres', sql: "SELECT ':x' || id::text FROM accounts WHERE id = :id", mode: 'read-only' })
    assert.deepEqual(check.tables, ['accounts'])
  })
})

describe('checkSql read-only, MySQL', () => {
  it('has at least 20 bypass fixtures', () => assert.ok(mysqlBypasses.length >= 20, 'mysqlBypasses.length >= 20'))
  for (const fixture of mysqlBypasses) {
    it(`refuses ${fixture.name}`, () => refusedWith('mysql', 'read-only', fixture.sql, fixture.code))
  }
  for (const sql of mysqlReads) {
    it(`allows ${sql.replace(/\s+/g, ' ').slice(0, 60)}`, async () => {
      const check = await checkSql({ engine: 'mysql', sql, mode: 'read-only' })
      assert.equal(check.engine, 'mysql')
    })
  }
  it('reports tables and functions', async () => {
    const check = await checkSql({ engine: 'mysql', sql: 'SELECT LOWER(owner), COUNT(*) FROM shop.accounts GROUP BY owner', mode: 'read-only' })
    assert.equal(check.statementKind, 'select')
    assert.deepEqual(check.tables, ['shop.accounts'])
    assert.deepEqual(check.functions, ['count', 'lower'])
  })
  it('refuses an executable-comment marker even inside a string (fail closed)', () =>
    refusedWith('mysql', 'read-only', "SELECT '/*!50000 x */'", 'SQL_NOT_READ_ONLY'))
})

describe('checkSql read-write', () => {
  const allowed: readonly [SqlEngine, string][] = [
    ['postgres', 'DELETE FROM accounts WHERE id = :id'],
    ['postgres', "INSERT INTO accounts (id, owner) VALUES (1, 'a') RETURNING id"],
    ['postgres', 'WITH d AS (DELETE FROM accounts RETURNING *) SELECT count(*) FROM d'],
    ['postgres', 'CREATE TABLE t2 (id int)'],
    ['postgres', 'SELECT nextval($$s$$), pg_sleep(0)'],
    ['postgres', 'SELECT * FROM accounts FOR UPDATE'],
    ['mysql', 'DELETE FROM accounts WHERE id = :id'],
    ['mysql', "UPDATE accounts SET owner = 'x' WHERE id = 1"],
    ['mysql', 'CREATE TABLE t2 (id int)'],
    ['mysql', 'SELECT SLEEP(0)'],
    ['mysql', 'INSERT INTO accounts SELECT * FROM accounts_old'],
    ['postgres', 'INSERT INTO accounts SELECT * FROM accounts_old'],
    ['postgres', 'SELECT pg_advisory_xact_lock(1)'],
    ['postgres', 'INSERT INTO accounts (id) SELECT oid::int FROM pg_catalog.pg_class LIMIT 1'],
    ['postgres', 'UPDATE accounts SET owner = c.relname FROM pg_catalog.pg_class c WHERE c.oid::int = accounts.id'],
    ['postgres', 'CREATE VIEW v AS SELECT relname FROM pg_catalog.pg_class'],
    ['postgres', 'CREATE INDEX ON accounts (owner)'],
    ['postgres', 'DROP TABLE accounts_old'],
    ['postgres', 'TRUNCATE accounts_old'],
    // Only pg_temp and pg_temp_<digits> are the session's temporary schema.
    ['postgres', 'CREATE TABLE my_pg_temp.accounts (id int)'],
    ['postgres', 'CREATE TABLE pg_temp_archive.accounts (id int)'],
    ['postgres', 'INSERT INTO pg_temp_1x.accounts VALUES (1)'],
    ['postgres', 'SELECT pg_tempo.f()'],
    ['postgres', 'DROP FUNCTION app_pg_temp.f()'],
    ['mysql', 'DROP TABLE accounts_old'],
  ]
  for (const [engine, sql] of allowed) {
    it(`allows ${engine}: ${sql}`, async () => {
      const check = await checkSql({ engine, sql, mode: 'read-write' })
      assert.equal(check.mode, 'read-write')
    })
  }
  const refused: readonly [SqlEngine, string, GuardErrorCode][] = [
    ['postgres', 'DELETE FROM accounts; DROP TABLE accounts', 'SQL_MULTIPLE_STATEMENTS'],
    ['postgres', "COPY accounts TO PROGRAM 'id'", 'SQL_NOT_ALLOWED'],
    ['postgres', "COPY accounts FROM '/etc/passwd'", 'SQL_NOT_ALLOWED'],
    ['postgres', 'ALTER SYSTEM SET fsync = off', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE EXTENSION dblink', 'SQL_NOT_ALLOWED'],
    ['postgres', 'DO $$ BEGIN NULL; END $$', 'SQL_NOT_ALLOWED'],
    ['postgres', "LOAD 'auto_explain'", 'SQL_NOT_ALLOWED'],
    ['postgres', 'BEGIN', 'SQL_NOT_ALLOWED'],
    ['postgres', 'COMMIT', 'SQL_NOT_ALLOWED'],
    ['postgres', 'SET ROLE postgres', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE ROLE airlock_x SUPERUSER', 'SQL_NOT_ALLOWED'],
    ['postgres', "SELECT pg_read_file('/etc/passwd')", 'SQL_NOT_ALLOWED'],
    ['postgres', "SELECT set_config('role', 'postgres', false)", 'SQL_NOT_ALLOWED'],
    ['postgres', "SELECT dblink_exec('dbname=test', 'DROP TABLE accounts')", 'SQL_NOT_ALLOWED'],
    ['postgres', "INSERT INTO accounts (id) SELECT lo_import('/etc/passwd')", 'SQL_NOT_ALLOWED'],
    ['postgres', 'EXPLAIN ANALYZE SELCT 1', 'SQL_PARSE_FAILED'],
    ['mysql', 'DELETE FROM accounts; DROP TABLE accounts', 'SQL_MULTIPLE_STATEMENTS'],
    ['mysql', '/*!50000 DROP TABLE accounts */', 'SQL_NOT_ALLOWED'],
    ['mysql', "SELECT * FROM accounts INTO OUTFILE '/tmp/x'", 'SQL_NOT_ALLOWED'],
    ['mysql', "SELECT LOAD_FILE('/etc/passwd')", 'SQL_NOT_ALLOWED'],
    ['mysql', "LOAD DATA INFILE '/etc/passwd' INTO TABLE accounts", 'SQL_NOT_ALLOWED'],
    ['mysql', 'START TRANSACTION', 'SQL_NOT_ALLOWED'],
    ['mysql', 'SET @x = 1', 'SQL_NOT_ALLOWED'],
    ['mysql', 'USE mysql', 'SQL_NOT_ALLOWED'],
    ['mysql', 'LOCK TABLES accounts WRITE', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE TEMP TABLE scratch (a int)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'ALTER DATABASE test SET search_path = evil', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE EVENT TRIGGER t ON ddl_command_start EXECUTE FUNCTION f()', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE TEMPORARY VIEW v AS SELECT 1', 'SQL_NOT_ALLOWED'],
    ['postgres', 'SELECT * INTO TEMP scratch FROM accounts', 'SQL_NOT_ALLOWED'],
    ['postgres', 'SELECT pg_advisory_lock(1)', 'SQL_NOT_ALLOWED'],
    ['mysql', 'CREATE TEMPORARY TABLE scratch (a int)', 'SQL_NOT_ALLOWED'],
    ['mysql', 'SELECT owner INTO @x FROM accounts LIMIT 1', 'SQL_NOT_ALLOWED'],
    ['mysql', 'SELECT @x := owner FROM accounts', 'SQL_NOT_ALLOWED'],
    ['mysql', "SELECT GET_LOCK('a', 1)", 'SQL_NOT_ALLOWED'],
    // Stored code runs later for other callers, beyond what the guard saw.
    ['postgres', "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN PERFORM set_config('role', 'postgres', false); COPY accounts TO PROGRAM 'id'; END $f$", 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', 'SQL_NOT_ALLOWED'],
    ['postgres', "CREATE PROCEDURE p() LANGUAGE sql AS $$ DELETE FROM accounts $$", 'SQL_NOT_ALLOWED'],
    ['postgres', 'CALL p()', 'SQL_NOT_ALLOWED'],
    ['postgres', 'ALTER FUNCTION f() SECURITY DEFINER', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE TRIGGER tr AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION f()', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE RULE r AS ON INSERT TO accounts DO INSTEAD NOTHING', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE EVENT TRIGGER et ON sql_drop EXECUTE FUNCTION f()', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE OPERATOR ### (RIGHTARG = text, FUNCTION = pg_read_file)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE AGGREGATE agg(int) (SFUNC = f, STYPE = int)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE CAST (text AS int) WITH FUNCTION f(text)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE LANGUAGE plperlu', 'SQL_NOT_ALLOWED'],
    // pg_temp is the pooled session's own schema: objects there shadow real ones for later callers.
    ['postgres', 'CREATE TABLE pg_temp.accounts (id int)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE TABLE "PG_TEMP".accounts (id int)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE TABLE pg_temp_3.accounts (id int)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE VIEW pg_temp.accounts AS SELECT 1 AS id', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE SEQUENCE pg_temp.s', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE TABLE pg_temp.x AS SELECT * FROM accounts', 'SQL_NOT_ALLOWED'],
    ['postgres', 'INSERT INTO pg_temp.x VALUES (1)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'SELECT * FROM pg_temp.x', 'SQL_NOT_ALLOWED'],
    ['postgres', 'SELECT pg_temp.f()', 'SQL_NOT_ALLOWED'],
    ['postgres', 'DROP TABLE pg_temp.x', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE TABLE pg_temp_12.accounts (id int)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'CREATE TABLE "Pg_Temp_7".accounts (id int)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'INSERT INTO "PG_TEMP_40".x VALUES (1)', 'SQL_NOT_ALLOWED'],
    ['postgres', 'SELECT pg_temp_12.f()', 'SQL_NOT_ALLOWED'],
    ['postgres', 'DROP FUNCTION "PG_TEMP".f()', 'SQL_NOT_ALLOWED'],
    ['postgres', 'DROP FUNCTION pg_temp_305.f()', 'SQL_NOT_ALLOWED'],
    // System catalogs are read, never written.
    ['postgres', 'INSERT INTO pg_catalog.pg_class SELECT * FROM pg_catalog.pg_class', 'SQL_NOT_ALLOWED'],
    ['postgres', "UPDATE information_schema.sql_features SET comments = 'x'", 'SQL_NOT_ALLOWED'],
    ['postgres', 'DELETE FROM pg_catalog.pg_proc', 'SQL_NOT_ALLOWED'],
    ['postgres', 'TRUNCATE pg_catalog.pg_class', 'SQL_NOT_ALLOWED'],
    ['postgres', 'DROP TABLE pg_catalog.pg_class', 'SQL_NOT_ALLOWED'],
    ['postgres', 'ALTER TABLE pg_catalog.pg_class ADD COLUMN x int', 'SQL_NOT_ALLOWED'],
    ['mysql', 'CREATE USER airlock_x', 'SQL_NOT_ALLOWED'],
    ['mysql', "CREATE USER airlock_x@'%' IDENTIFIED BY 'pw'", 'SQL_NOT_ALLOWED'],
    ['mysql', 'DROP USER airlock_x', 'SQL_PARSE_FAILED'],
    ['mysql', "ALTER USER airlock_x IDENTIFIED BY 'pw'", 'SQL_PARSE_FAILED'],
    ['mysql', 'CREATE FUNCTION f() RETURNS INT RETURN 1', 'SQL_PARSE_FAILED'],
    ['mysql', 'CREATE PROCEDURE p() SELECT 1', 'SQL_PARSE_FAILED'],
    ['mysql', 'CREATE TRIGGER tr BEFORE INSERT ON accounts FOR EACH ROW SET NEW.owner = CURRENT_USER()', 'SQL_NOT_ALLOWED'],
    ['mysql', 'DROP TRIGGER tr', 'SQL_NOT_ALLOWED'],
    ['mysql', 'CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM accounts', 'SQL_PARSE_FAILED'],
    ['mysql', 'GRANT ALL ON *.* TO airlock_x', 'SQL_NOT_ALLOWED'],
    ['mysql', 'REVOKE ALL ON *.* FROM airlock_x', 'SQL_PARSE_FAILED'],
    ['mysql', 'CALL airlock_wipe()', 'SQL_NOT_ALLOWED'],
  ]
  for (const [engine, sql, code] of refused) {
    it(`refuses ${engine}: ${sql}`, () => refusedWith(engine, 'read-write', sql, code))
  }
})

describe('checkSql PostgreSQL never list', () => {
  it('has a statement for every kind on the list', () => {
    assert.equal(new Set(postgresNeverStatements.map((f) => f.kind)).size, 43)
  })
  for (const { kind, sql } of postgresNeverStatements) {
    it(`refuses ${kind} in read-write mode: ${sql}`, () => refusedWith('postgres', 'read-write', sql, 'SQL_NOT_ALLOWED'))
    it(`refuses ${kind} in read-only mode, naming it: ${sql}`, async () => {
      await assert.rejects(checkSql({ engine: 'postgres', sql, mode: 'read-only' }), (error: unknown) => {
        assert.ok(error instanceof GuardError, `expected GuardError, got ${String(error)}`)
        assert.equal(error.code, 'SQL_NOT_READ_ONLY')
        assert.ok(error.message.includes(`${kind}:`), error.message)
        return true
      })
    })
  }
  for (const sql of postgresNestedNever) {
    it(`refuses a never-allowed statement nested in an allowed one: ${sql}`, async () => {
      await assert.rejects(checkSql({ engine: 'postgres', sql, mode: 'read-write' }), (error: unknown) => {
        assert.ok(error instanceof GuardError, `expected GuardError, got ${String(error)}`)
        assert.equal(error.code, 'SQL_NOT_ALLOWED', error.message)
        assert.match(error.message, /nested [A-Z][A-Za-z]+Stmt/)
        return true
      })
    })
  }
})
