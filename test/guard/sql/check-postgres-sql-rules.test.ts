import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError } from '../../../src/errors.js'
import type { GuardErrorCode } from '../../../src/errors.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import type { SqlMode } from '../../../src/guard/sql/sql-check-request.js'
import { postgresNeverStatements } from './sql-fixtures.js'

// The PostgreSQL guard's rules one by one, each with the refusal it gives (code and message), and
// the neighbours each rule must leave alone, so that a rule cannot be dropped or widened unnoticed.

async function refusal(sql: string, mode: SqlMode): Promise<GuardError> {
  const error: unknown = await checkSql({ engine: 'postgres', sql, mode }).then(
    (check) => assert.fail(`allowed (${JSON.stringify(check)}): ${sql}`),
    (rejection: unknown) => rejection,
  )
  assert.ok(error instanceof GuardError, `expected GuardError, got ${String(error)}`)
  return error
}

async function refused(sql: string, mode: SqlMode, code: GuardErrorCode, message: string | RegExp): Promise<void> {
  const error = await refusal(sql, mode)
  assert.equal(error.code, code, `${sql}: ${error.message}`)
  if (typeof message === 'string') assert.equal(error.message, message, sql)
  else assert.match(error.message, message, sql)
}

describe('never-allowed statements give their reason', () => {
  for (const { kind, sql } of postgresNeverStatements) {
    it(`${kind} in read-write: ${sql}`, async () => {
      // Every entry carries a sentence of its own; "refused in every mode: " with nothing after it is a lost reason.
      await refused(sql, 'read-write', 'SQL_NOT_ALLOWED', /^refused in every mode: [a-zA-Z].{12,}$/)
    })
    it(`${kind} in read-only: ${sql}`, async () => {
      await refused(sql, 'read-only', 'SQL_NOT_READ_ONLY', new RegExp(`^not read-only: ${kind}: [a-zA-Z].{12,}$`))
    })
  }
  it('says why for a few, word for word', async () => {
    await refused("COPY accounts TO PROGRAM 'id'", 'read-write', 'SQL_NOT_ALLOWED', 'refused in every mode: COPY reads or writes server files or programs')
    await refused('SET ROLE postgres', 'read-only', 'SQL_NOT_READ_ONLY', 'not read-only: VariableSetStmt: SET changes session state on a shared connection')
    await refused('CHECKPOINT', 'read-write', 'SQL_NOT_ALLOWED', 'refused in every mode: CHECKPOINT is server administration')
  })
  it('names a never-allowed statement nested in an allowed one', async () => {
    await refused('CREATE TABLE t AS EXECUTE p(1)', 'read-write', 'SQL_NOT_ALLOWED', 'refused in every mode: nested ExecuteStmt: EXECUTE runs a prepared statement the guard cannot see')
    await refused('EXPLAIN DECLARE c CURSOR FOR SELECT 1', 'read-write', 'SQL_NOT_ALLOWED', 'refused in every mode: nested DeclareCursorStmt: cursors outlive the call')
  })
  it('refuses CREATE OPERATOR and CREATE AGGREGATE with their reasons', async () => {
    await refused('CREATE OPERATOR ### (RIGHTARG = text, FUNCTION = f)', 'read-write', 'SQL_NOT_ALLOWED', 'refused in every mode: operators call functions the guard cannot see by name')
    await refused('CREATE AGGREGATE agg(int) (SFUNC = f, STYPE = int)', 'read-write', 'SQL_NOT_ALLOWED', 'refused in every mode: aggregates call functions the guard cannot see by name')
  })
  it('allows the other kinds of definition a read-write grant may make', async () => {
    for (const sql of ["CREATE TYPE mood AS ENUM ('ok')", 'CREATE TYPE pair AS (a int, b int)', "CREATE COLLATION c (locale = 'C')", 'CREATE TEXT SEARCH DICTIONARY d (TEMPLATE = simple)']) {
      assert.equal((await checkSql({ engine: 'postgres', sql, mode: 'read-write' })).mode, 'read-write', sql)
    }
  })
})

describe('system schemas are read, never written', () => {
  const writes: [sql: string, message: string][] = [
    ['INSERT INTO pg_toast.x VALUES (1)', 'refused in every mode: writes to pg_toast.x'],
    ['UPDATE information_schema.sql_parts SET comments = 1', 'refused in every mode: writes to information_schema.sql_parts'],
    ['CREATE VIEW pg_catalog.v AS SELECT 1', 'refused in every mode: writes to pg_catalog.v'],
    ['CREATE SEQUENCE information_schema.s', 'refused in every mode: writes to information_schema.s'],
    ['CREATE TABLE pg_toast.x AS SELECT 1', 'refused in every mode: writes to pg_toast.x'],
    ['CREATE TYPE pg_catalog.t AS (a int)', 'refused in every mode: writes to pg_catalog.t'],
    ['CREATE INDEX ON pg_catalog.pg_class (oid)', 'refused in every mode: writes to pg_catalog.pg_class'],
    ['TRUNCATE information_schema.sql_features', 'refused in every mode: writes to information_schema.sql_features'],
    ['TRUNCATE accounts, pg_toast.t', 'refused in every mode: writes to pg_toast.t'],
    ['ALTER TABLE pg_catalog.pg_class RENAME TO x', 'refused in every mode: writes to pg_catalog.pg_class'],
    ['VACUUM pg_catalog.pg_class', 'refused in every mode: writes to pg_catalog.pg_class'],
    // SELECT … INTO creates its target just as CREATE TABLE … AS does.
    ['SELECT * INTO pg_catalog.stolen FROM accounts', 'refused in every mode: writes to pg_catalog.stolen'],
    ['SELECT * INTO information_schema.stolen FROM accounts', 'refused in every mode: writes to information_schema.stolen'],
    ['SELECT * INTO pg_toast.stolen FROM accounts', 'refused in every mode: writes to pg_toast.stolen'],
    ['WITH a AS (SELECT 1) SELECT * INTO PG_CATALOG.stolen FROM a', 'refused in every mode: writes to pg_catalog.stolen'],
    // Objects named by a list rather than a relation.
    ['DROP VIEW information_schema.tables', 'refused in every mode: changes information_schema.tables in a system schema'],
    ['DROP SEQUENCE pg_toast.s', 'refused in every mode: changes pg_toast.s in a system schema'],
    ['DROP INDEX pg_catalog.pg_class_oid_index', 'refused in every mode: changes pg_catalog.pg_class_oid_index in a system schema'],
    ['DROP TABLE accounts_old, pg_catalog.pg_class', 'refused in every mode: changes pg_catalog.pg_class in a system schema'],
    ['ALTER TYPE pg_catalog.int4 RENAME TO x', 'refused in every mode: changes pg_catalog.int4 in a system schema'],
    ['ALTER DOMAIN information_schema.cardinal_number RENAME TO x', 'refused in every mode: changes information_schema.cardinal_number in a system schema'],
    ['ALTER TYPE pg_catalog.int4 SET SCHEMA public', 'refused in every mode: changes pg_catalog.int4 in a system schema'],
    ["COMMENT ON TABLE pg_catalog.pg_class IS 'x'", 'refused in every mode: changes pg_catalog.pg_class in a system schema'],
    ["COMMENT ON COLUMN pg_catalog.pg_class.relname IS 'x'", 'refused in every mode: changes pg_catalog.pg_class.relname in a system schema'],
    // Functions, aggregates and operators by name (never by their argument types), types and domains.
    ['DROP FUNCTION pg_catalog.lower(text)', 'refused in every mode: changes pg_catalog.lower in a system schema'],
    ['DROP AGGREGATE pg_catalog.count(*)', 'refused in every mode: changes pg_catalog.count in a system schema'],
    ['DROP OPERATOR pg_catalog.+ (int, int)', 'refused in every mode: changes pg_catalog.+ in a system schema'],
    ['ALTER FUNCTION pg_catalog.lower(text) RENAME TO x', 'refused in every mode: changes pg_catalog.lower in a system schema'],
    ['ALTER FUNCTION pg_catalog.lower(text) SET SCHEMA public', 'refused in every mode: changes pg_catalog.lower in a system schema'],
    ['ALTER FUNCTION pg_catalog.now() OWNER TO app', 'refused in every mode: changes pg_catalog.now in a system schema'],
    ["COMMENT ON FUNCTION information_schema._pg_truetypid(pg_attribute, pg_type) IS 'x'", 'refused in every mode: changes information_schema._pg_truetypid in a system schema'],
    ['DROP TYPE t, pg_catalog.int4', 'refused in every mode: changes pg_catalog.int4 in a system schema'],
    ['DROP DOMAIN information_schema.cardinal_number', 'refused in every mode: changes information_schema.cardinal_number in a system schema'],
    ["COMMENT ON TYPE pg_toast.t IS 'x'", 'refused in every mode: changes pg_toast.t in a system schema'],
    ['ALTER TYPE pg_catalog.int4 OWNER TO app', 'refused in every mode: changes pg_catalog.int4 in a system schema'],
    // The system schemas themselves.
    ['DROP SCHEMA app, pg_catalog', 'refused in every mode: changes the system schema pg_catalog'],
    ['DROP SCHEMA Information_Schema CASCADE', 'refused in every mode: changes the system schema information_schema'],
    ['ALTER SCHEMA pg_toast RENAME TO x', 'refused in every mode: changes the system schema pg_toast'],
    ['ALTER SCHEMA information_schema OWNER TO app', 'refused in every mode: changes the system schema information_schema'],
    ["COMMENT ON SCHEMA pg_catalog IS 'x'", 'refused in every mode: changes the system schema pg_catalog'],
    // A quoted "PG_CATALOG" is another schema; refusing it too is the safe side.
    ['DROP TABLE "PG_CATALOG".x', 'refused in every mode: changes PG_CATALOG.x in a system schema'],
    ['INSERT INTO "Information_Schema".x VALUES (1)', 'refused in every mode: writes to Information_Schema.x'],
  ]
  for (const [sql, message] of writes) {
    it(`refuses ${sql}`, () => refused(sql, 'read-write', 'SQL_NOT_ALLOWED', message))
  }
  const allowed = [
    'SELECT * INTO stolen FROM pg_catalog.pg_class',
    'INSERT INTO accounts (id) SELECT oid::int FROM pg_catalog.pg_class',
    'SELECT * FROM pg_catalog.pg_class TABLESAMPLE SYSTEM (1)',
    'DELETE FROM accounts USING information_schema.tables t WHERE t.table_name = accounts.owner',
    'DROP TABLE information_schema',
    'DROP TABLE app.pg_catalog',
    'CREATE VIEW v AS SELECT * FROM pg_catalog.pg_class',
    "COMMENT ON TABLE accounts IS 'x'",
    'ALTER TABLE accounts RENAME TO accounts2',
    'DROP FUNCTION f(int)',
    'DROP FUNCTION app.f(pg_catalog.int4, pg_catalog.text)',
    'DROP OPERATOR app.=== (pg_catalog.int4, int)',
    "COMMENT ON TYPE pg_catalog_x.t IS 'x'",
    'DROP TYPE app.pg_catalog',
    'DROP SCHEMA app',
    'ALTER SCHEMA app RENAME TO pg_catalog_old',
    'ALTER TABLE accounts RENAME COLUMN pg_catalog TO x',
    'ALTER TABLE accounts OWNER TO app',
  ]
  for (const sql of allowed) {
    it(`allows ${sql}`, async () => {
      const check = await checkSql({ engine: 'postgres', sql, mode: 'read-write' })
      assert.equal(check.mode, 'read-write')
    })
  }
})

describe('system catalogs and system objects', () => {
  it('refuses a catalog read unless the grant opts in, and a change to a system object either way', async () => {
    const read = 'SELECT rolpassword FROM pg_authid'
    const denied = await refusal(read, 'read-only')
    assert.equal(denied.code, 'SQL_SYSTEM_CATALOG', denied.message)
    assert.equal((await checkSql({ engine: 'postgres', sql: read, mode: 'read-only', allowSystemCatalogs: true })).statementKind, 'SelectStmt')
    assert.equal((await checkSql({ engine: 'postgres', sql: 'SHOW ALL', mode: 'read-write', allowSystemCatalogs: true })).statementKind, 'VariableShowStmt')
    for (const allowSystemCatalogs of [false, true]) {
      await assert.rejects(checkSql({ engine: 'postgres', sql: 'LOCK TABLE pg_catalog.pg_authid', mode: 'read-write', allowSystemCatalogs }), (error: unknown) => {
        assert.ok(error instanceof GuardError && error.code === 'SQL_NOT_ALLOWED', String(error))
        assert.equal(error.message, 'refused in every mode: changes pg_catalog.pg_authid in a system schema')
        return true
      })
    }
  })
})

describe('pg_temp', () => {
  const cases: [sql: string, mode: SqlMode][] = [
    ['SELECT * FROM pg_temp.x', 'read-only'],
    ['SELECT pg_temp.f()', 'read-write'],
    ['SELECT * FROM "pg_temp_9".x', 'read-only'],
    ['INSERT INTO pg_temp.x VALUES (1)', 'read-write'],
    ['DROP TABLE pg_temp.x', 'read-write'],
  ]
  for (const [sql, mode] of cases) {
    it(`refuses ${sql} (${mode})`, () =>
      refused(sql, mode, mode === 'read-only' ? 'SQL_NOT_READ_ONLY' : 'SQL_NOT_ALLOWED', `${mode === 'read-only' ? 'not read-only' : 'refused in every mode'}: objects in pg_temp outlive the call on a shared connection`))
  }
  it('refuses temporary objects with their own reason, in both modes', async () => {
    await refused('CREATE TEMP TABLE t (a int)', 'read-write', 'SQL_NOT_ALLOWED', 'refused in every mode: temporary objects outlive the call on a shared connection')
    await refused('CREATE TEMP SEQUENCE s', 'read-write', 'SQL_NOT_ALLOWED', 'refused in every mode: temporary objects outlive the call on a shared connection')
  })
  it('leaves a single name that only looks like pg_temp alone', async () => {
    for (const sql of ['SELECT pg_temp FROM accounts', 'SELECT pg_temp_1 FROM accounts', 'SELECT a.pg_temp FROM accounts a']) {
      assert.equal((await checkSql({ engine: 'postgres', sql, mode: 'read-only' })).statementKind, 'SelectStmt', sql)
    }
  })
})

describe('read-only statements', () => {
  const cases: [sql: string, message: string][] = [
    ['EXPLAIN DELETE FROM accounts', 'not read-only: EXPLAIN of DeleteStmt'],
    ['EXPLAIN INSERT INTO accounts VALUES (1)', 'not read-only: EXPLAIN of InsertStmt'],
    ['EXPLAIN (analyze) SELECT 1', 'not read-only: EXPLAIN ANALYZE executes the statement'],
    ['EXPLAIN (ANALYZE false) SELECT 1', 'not read-only: EXPLAIN ANALYZE executes the statement'],
    ['EXPLAIN (VERBOSE, ANALYZE) SELECT 1', 'not read-only: EXPLAIN ANALYZE executes the statement'],
    ['CREATE TABLE t (a int)', 'not read-only: statement CreateStmt is not a plain read'],
    ['CREATE OPERATOR ### (RIGHTARG = text, FUNCTION = f)', 'not read-only: statement DefineStmt is not a plain read'],
    ['SELECT * INTO stolen FROM accounts', 'not read-only: SELECT … INTO creates a table'],
    ['SELECT 1 FROM accounts FOR UPDATE OF accounts', 'not read-only: locking clause (FOR UPDATE / FOR SHARE) takes row locks'],
    ['WITH d AS (DELETE FROM accounts RETURNING 1) SELECT 1', 'not read-only: contains a data-modifying DeleteStmt'],
    ['WITH u AS (UPDATE accounts SET id = 1 RETURNING 1) SELECT 1', 'not read-only: contains a data-modifying UpdateStmt'],
  ]
  for (const [sql, message] of cases) {
    it(`refuses ${sql}`, () => refused(sql, 'read-only', 'SQL_NOT_READ_ONLY', message))
  }
  it('allows the plain reads, EXPLAIN without ANALYZE and SHOW', async () => {
    for (const sql of ['EXPLAIN VALUES (1)', 'EXPLAIN (VERBOSE) SELECT 1', 'SHOW TimeZone', 'SELECT 1', 'TABLE accounts']) {
      assert.equal((await checkSql({ engine: 'postgres', sql, mode: 'read-only' })).mode, 'read-only', sql)
    }
  })
  it('names refused functions in both modes', async () => {
    await refused('SELECT pg_sleep(1)', 'read-only', 'SQL_NOT_READ_ONLY', /^not read-only: .*pg_sleep/)
    await refused("SELECT pg_read_file('/etc/passwd')", 'read-write', 'SQL_NOT_ALLOWED', /^refused in every mode: .*pg_read_file/)
  })
  it('names refused operators and types', async () => {
    await refused('SELECT 1 ### 2', 'read-only', 'SQL_NOT_READ_ONLY', /^not read-only: .*###/)
    await refused("SELECT 'x'::airlock_domain", 'read-only', 'SQL_NOT_READ_ONLY', /^not read-only: .*airlock_domain/)
  })
})

describe('parsing', () => {
  const cases: [sql: string, code: GuardErrorCode, message: string | RegExp][] = [
    ['SELECT 1; SELECT 2', 'SQL_MULTIPLE_STATEMENTS', 'expected exactly one statement, found 2'],
    ['SELECT 1; SELECT 2; SELECT 3', 'SQL_MULTIPLE_STATEMENTS', 'expected exactly one statement, found 3'],
    [';', 'SQL_PARSE_FAILED', 'the SQL contains no statement'],
    ['-- only a comment', 'SQL_PARSE_FAILED', 'the SQL contains no statement'],
    ['SELEC 1', 'SQL_PARSE_FAILED', /^PostgreSQL could not parse the statement: syntax error at or near "SELEC"$/],
    // A placeholder is ":" directly followed by a name; anything else is left to the grammar.
    ['SELECT * FROM accounts WHERE id = : id', 'SQL_PARSE_FAILED', /^PostgreSQL could not parse the statement: syntax error at or near ":"$/],
    ['SELECT :1', 'SQL_PARSE_FAILED', /^PostgreSQL could not parse the statement: /],
    // Data API names are ASCII: a name with another letter at either end is not a placeholder.
    ['SELECT :\u00e9a', 'SQL_PARSE_FAILED', /^PostgreSQL could not parse the statement: syntax error at or near ":"$/],
    ['SELECT :a\u00e9', 'SQL_PARSE_FAILED', /^PostgreSQL could not parse the statement: syntax error at or near ":"$/],
  ]
  for (const [sql, code, message] of cases) {
    it(`refuses ${JSON.stringify(sql)}`, () => refused(sql, 'read-only', code, message))
  }
  it('binds every placeholder, however many', async () => {
    const check = await checkSql({ engine: 'postgres', sql: 'SELECT * FROM accounts WHERE id = :a AND owner = :b_2 AND balance > :C AND :a IS NOT NULL', mode: 'read-only' })
    assert.deepEqual(check.tables, ['accounts'])
  })
  it('leaves array slices and casts alone', async () => {
    const check = await checkSql({ engine: 'postgres', sql: 'SELECT (ARRAY[1,2,3])[1:2], id::text, :x::int FROM accounts', mode: 'read-only' })
    assert.deepEqual(check.tables, ['accounts'])
  })
})

describe('what a check reports', () => {
  it('lists tables qualified as written, lower-cased and sorted, and each function once', async () => {
    const check = await checkSql({
      engine: 'postgres',
      sql: 'SELECT lower(a.owner), count(*), lower(b.owner) FROM Zeta.Accounts a JOIN test.app.accounts b ON true JOIN "Mixed" m ON true GROUP BY 1, 3',
      mode: 'read-only',
    })
    assert.equal(check.engine, 'postgres')
    assert.equal(check.mode, 'read-only')
    assert.equal(check.statementKind, 'SelectStmt')
    assert.deepEqual(check.tables, ['mixed', 'test.app.accounts', 'zeta.accounts'])
    assert.deepEqual(check.functions, ['count', 'lower'])
  })
  it('reports the statement kind of a write', async () => {
    const check = await checkSql({ engine: 'postgres', sql: 'DELETE FROM accounts WHERE id = :id', mode: 'read-write' })
    assert.deepEqual({ kind: check.statementKind, tables: check.tables, functions: check.functions }, { kind: 'DeleteStmt', tables: ['accounts'], functions: [] })
  })
  it('carries the built-in probe for a read-only statement that resolves names, and only then', async () => {
    const read = await checkSql({ engine: 'postgres', sql: 'SELECT lower(owner) FROM accounts', mode: 'read-only' })
    assert.ok(read.builtinProbe !== undefined, 'a read-only call of lower() is proved to reach the built-in')
    assert.ok(read.builtinProbe.names.includes('lower'), read.builtinProbe.names)
    const write = await checkSql({ engine: 'postgres', sql: 'SELECT lower(owner) FROM accounts', mode: 'read-write' })
    assert.equal(Object.hasOwn(write, 'builtinProbe'), false, 'read-write statements run with their own rights and carry no probe')
    const plain = await checkSql({ engine: 'postgres', sql: 'SELECT 1', mode: 'read-only' })
    assert.equal(Object.hasOwn(plain, 'builtinProbe'), false, 'a read that resolves no names carries no probe key')
  })
})
