import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import { PG_URL } from '../../tools/support/sql-test-databases.js'

interface PlanNode {
  readonly 'Node Type': string
  readonly 'Relation Name'?: string
  readonly 'Total Cost': number
  readonly Plans?: readonly PlanNode[]
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

/**
 * The catalog probe runs before every read-only PostgreSQL statement; these pin the plan choices
 * its text is written for (see prove-postgres-builtins.ts), on a database with a chain of views.
 */
describe('the PostgreSQL catalog probe’s plan', () => {
  const db = `airlock_plan_${randomBytes(4).toString('hex')}`
  let admin: pg.Client
  let client: pg.Client
  before(async () => {
    admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${db}`)
    client = new pg.Client({ connectionString: PG_URL.replace(/\/test$/, `/${db}`) })
    await client.connect()
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, note text)')
    await client.query('CREATE VIEW v1 AS SELECT id, lower(note) AS note FROM orders')
    for (let i = 2; i <= 20; i++) await client.query(`CREATE VIEW v${i} AS SELECT id, note FROM v${i - 1}`)
  })
  after(async () => {
    await client.end()
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
    await admin.end()
  })

  async function probeOf(sql: string): Promise<{ text: string; names: string }> {
    const check = await checkSql({ engine: 'postgres', sql, mode: 'read-only', maskedColumns: [], allowSystemCatalogs: false })
    const probe = check.builtinProbe
    assert.ok(probe !== undefined, `${sql}: no probe`)
    return { text: probe.sql.replace(':names', '$1'), names: probe.names }
  }

  async function plan(sql: string): Promise<PlanNode> {
    const probe = await probeOf(sql)
    const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${probe.text}`, [probe.names])
    const top = rows[0]?.['QUERY PLAN'][0]?.Plan
    assert.ok(top !== undefined)
    return top
  }

  for (const sql of ['SELECT id FROM orders WHERE id = 1', "SELECT id, note FROM v20 WHERE note = 'a' ORDER BY id", 'SELECT count(*) FROM v1 JOIN v20 USING (id)']) {
    it(`stays far below the JIT threshold: ${sql}`, async () => {
      const { rows } = await client.query<{ jit_above_cost: string }>('SHOW jit_above_cost')
      const threshold = Number(rows[0]?.jit_above_cost)
      const cost = (await plan(sql))['Total Cost']
      assert.ok(cost * 4 < threshold, `estimated cost ${cost} is within 4x of jit_above_cost ${threshold}`)
    })

    it(`looks rules and dependencies up by index, never scanning pg_rewrite, pg_depend or pg_proc: ${sql}`, async () => {
      const scanned = nodes(await plan(sql))
        .filter((n) => n['Node Type'] === 'Seq Scan')
        .map((n) => n['Relation Name'])
      for (const catalog of ['pg_rewrite', 'pg_depend', 'pg_proc']) assert.ok(!scanned.includes(catalog), `${sql}: sequential scan of ${catalog} (${scanned.join(', ')})`)
    })
  }

  it('answers through the whole chain of views', async () => {
    await client.query('CREATE FUNCTION public.helper(int) RETURNS int LANGUAGE sql AS $$ SELECT $1 $$')
    await client.query('CREATE OR REPLACE VIEW v1 AS SELECT id, lower(note) AS note, public.helper(id) AS h FROM orders')
    const probe = await probeOf('SELECT id FROM v20')
    const { rows } = await client.query<{ kind: string; name: string }>(probe.text, [probe.names])
    assert.deepEqual(rows.map((r) => [r.kind, r.name]), [['function', 'helper(integer) (view v1)']])
  })
})
