import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { UpstreamError } from '../../src/errors.js'
import { actions, readWrite, startSqlQueryHarness, type SqlQueryHarness } from './support/sql-query-harness.js'
import { postgresUserCodeReaches } from '../guard/sql/sql-fixtures.js'
import { PG_URL } from './support/sql-test-databases.js'

/** Every user-defined object below raises this when it runs, so running is visible even in a read-only transaction. */
const RAN = 'user code ran'
const raise = (what: string) => `LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${RAN}: ${what}'; END $$`

/*
 * A database of its own: its objects carry built-in names (and its search_path puts a user schema
 * first), which would change what statements in the shared test database resolve to.
 */
const SETUP = (db: string) => [
  'CREATE SCHEMA evil',
  'CREATE TABLE orders (id int, code varchar(10), note text)',
  "INSERT INTO orders VALUES (1, 'a', 'first'), (2, 'b', 'second')",
  `CREATE FUNCTION public.length(orders) RETURNS int ${raise('length(orders)')}`,
  `CREATE FUNCTION public.lower(integer) RETURNS int ${raise('lower(integer)')}`,
  `CREATE FUNCTION evil.upper(text) RETURNS text ${raise('evil.upper(text)')}`,
  `CREATE FUNCTION public.code_eq(varchar, varchar) RETURNS boolean ${raise('varchar = varchar')}`,
  'CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.code_eq)',
  `CREATE FUNCTION public.orders_text(orders) RETURNS text ${raise('orders::text')}`,
  'CREATE CAST (orders AS text) WITH FUNCTION public.orders_text(orders)',
  `CREATE FUNCTION evil.check_int8(text) RETURNS boolean ${raise('evil.int8 domain check')}`,
  'CREATE DOMAIN evil.int8 AS pg_catalog.int8 CHECK (evil.check_int8(VALUE::pg_catalog.text))',
  `CREATE FUNCTION public.count_step(int, orders) RETURNS int ${raise('count(orders)')}`,
  'CREATE AGGREGATE public.count(orders) (SFUNC = public.count_step, STYPE = int, INITCOND = 0)',
  `CREATE FUNCTION public.note_concat(text, orders) RETURNS text ${raise('text || orders')}`,
  'CREATE OPERATOR public.|| (LEFTARG = text, RIGHTARG = orders, FUNCTION = public.note_concat)',
  `CREATE FUNCTION public.view_helper(int) RETURNS int ${raise('view_helper(int)')}`,
  'CREATE VIEW orders_view AS SELECT id, public.view_helper(id) AS h FROM orders',
  'CREATE VIEW orders_view_view AS SELECT id FROM orders_view',
  'CREATE VIEW public.orders_op_view AS SELECT id FROM orders WHERE code OPERATOR(public.=) \'a\'',
  // Row-level security: the policy's function runs for every role the policy applies to.
  'CREATE TABLE secured (id int)',
  'INSERT INTO secured VALUES (1)',
  `CREATE FUNCTION public.policy_helper(int) RETURNS boolean ${raise('policy_helper(int)')}`,
  'ALTER TABLE secured ENABLE ROW LEVEL SECURITY',
  'CREATE POLICY secured_rows ON secured USING (public.policy_helper(id))',
  'CREATE VIEW secured_view AS SELECT id FROM secured',
  // Off the search path: unqualified calls cannot reach it.
  'CREATE SCHEMA offpath',
  `CREATE FUNCTION offpath.initcap(text) RETURNS text ${raise('offpath.initcap(text)')}`,
  // A user schema searched before pg_catalog: its exact matches shadow the built-ins.
  `ALTER DATABASE ${db} SET search_path = evil, pg_catalog, public`,
]

const REACHES_USER_CODE = postgresUserCodeReaches

describe('sql_query on PostgreSQL runs only built-ins for read-only grants (catalog probe)', () => {
  const db = `airlock_fx_${randomBytes(4).toString('hex')}`
  let admin: pg.Client
  let h: SqlQueryHarness
  before(async () => {
    admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${db}`)
    const owner = new pg.Client({ connectionString: PG_URL.replace(/\/test$/, `/${db}`) })
    await owner.connect()
    for (const sql of SETUP(db)) await owner.query(sql)
    await owner.end()
    h = await startSqlQueryHarness('postgres', { backendUri: PG_URL.replace(/\/test$/, `/${db}`) })
  })
  after(async () => {
    await h.close()
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
    await admin.end()
  })

  const direct = (sql: string) => h.unguarded(sql, { database: db })

  for (const c of REACHES_USER_CODE) {
    it(`without the probe, the database runs user code: ${c.name}`, async () => {
      await assert.rejects(direct(c.sql), (e: unknown) => {
        assert.ok(e instanceof UpstreamError && e.code === 'DB_ERROR', `${c.sql}: expected DB_ERROR, got ${String(e)}`)
        assert.match(e.message, new RegExp(RAN), `${c.sql}: the user's code did not run, so the case proves nothing`)
        return true
      })
    })

    it(`refuses with SQL_FUNCTION_NOT_BUILTIN before the statement runs: ${c.name}`, async () => {
      const { error, calls } = await h.refused({ sql: c.sql }, 'SQL_FUNCTION_NOT_BUILTIN')
      assert.doesNotMatch(error.message, new RegExp(RAN), `${c.sql}: the user's code ran`)
      // The one set-up statement (read-only, the time limit, the probe); never the caller's statement.
      assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'RollbackTransaction:ok'], c.sql)
    })
  }

  it('why a catalog probe and not a pinned search path: pg_catalog first still reaches exact overloads, pg_catalog alone hides tables', async () => {
    const client = new pg.Client({ connectionString: PG_URL.replace(/\/test$/, `/${db}`) })
    await client.connect()
    try {
      await client.query('BEGIN READ ONLY')
      await client.query('SET LOCAL search_path = pg_catalog, public')
      await assert.rejects(client.query('SELECT o.length FROM orders o'), new RegExp(`${RAN}: length\\(orders\\)`))
      await client.query('ROLLBACK')
      await client.query('BEGIN READ ONLY')
      await client.query('SET LOCAL search_path = pg_catalog')
      await assert.rejects(client.query('SELECT id FROM orders'), /relation "orders" does not exist/)
      await client.query('ROLLBACK')
    } finally {
      await client.end()
    }
  })

  it('refuses a table, or a view over it, whose row-level security policy calls user code', async () => {
    // The harness connects as a superuser, whom policies never apply to: a plain role shows the code runs.
    const role = `airlock_rls_${randomBytes(4).toString('hex')}`
    const owner = new pg.Client({ connectionString: PG_URL.replace(/\/test$/, `/${db}`) })
    await owner.connect()
    try {
      await owner.query(`CREATE ROLE ${role}`)
      await owner.query(`GRANT SELECT ON secured, secured_view TO ${role}`)
      await owner.query('BEGIN READ ONLY')
      await owner.query(`SET LOCAL ROLE ${role}`)
      await assert.rejects(owner.query('SELECT id FROM secured'), new RegExp(`${RAN}: policy_helper`))
      await owner.query('ROLLBACK')
    } finally {
      await owner.query(`DROP OWNED BY ${role}`).catch(() => undefined)
      await owner.query(`DROP ROLE IF EXISTS ${role}`)
      await owner.end()
    }
    for (const sql of ['SELECT id FROM secured', 'SELECT id FROM secured_view WHERE id > 0']) {
      const { error, calls } = await h.refused({ sql }, 'SQL_FUNCTION_NOT_BUILTIN')
      assert.match(error.message, /function policy_helper\(integer\) \(policy on secured\)/, sql)
      assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'RollbackTransaction:ok'], sql)
    }
  })

  it('names the user-defined object in the audit message', async () => {
    const { error } = await h.refused({ sql: 'SELECT o.length FROM orders o' }, 'SQL_FUNCTION_NOT_BUILTIN')
    assert.match(error.message, /function length\(orders\)/)
  })

  for (const sql of ['SELECT id, note FROM orders ORDER BY id', 'SELECT initcap(note) FROM orders ORDER BY 1', 'SELECT pg_catalog.length(note) FROM orders ORDER BY id', "SELECT pg_catalog.upper(note) FROM orders WHERE code OPERATOR(pg_catalog.=) 'a'"]) {
    it(`still runs reads that resolve only built-ins: ${sql}`, async () => {
      const { result } = await h.run({ sql })
      assert.ok(Number(result.structured?.['rowCount']) > 0, `${sql} returned no rows`)
    })
  }

  it('runs no probe for a read-write grant, whose limits are different', async () => {
    const { calls } = await h.run({ sql: 'SELECT id FROM orders' }, { grant: readWrite })
    assert.deepEqual(actions(calls), ['BeginTransaction:ok', 'ExecuteStatement:ok', 'ExecuteStatement:ok', 'CommitTransaction:ok'])
  })
})
