import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import { grant, startSqlQueryHarness, type SqlQueryHarness } from './support/sql-query-harness.js'

/*
 * Sizes the guard cannot see (parameters, recursion, aggregates over many rows) are bounded by
 * the limits every call already has: the grant's statement timeout, enforced by the database, the
 * Data API's 1 MiB response limit, and the servers' own ceilings. These cases show each of them
 * stopping a statement the guard lets through.
 */
const oneSecond = grant({ mode: 'read-only', timeoutSeconds: 1 })
const rows = (structured: Record<string, unknown> | undefined) => z.array(z.array(z.unknown())).parse(structured?.['rows'])

interface Case {
  readonly name: string
  readonly sql: string
  readonly parameters?: Record<string, number>
  readonly code?: string
  /** What the database said, for DB_ERROR: the limit, not some other mistake. */
  readonly says?: RegExp
  readonly check?: (found: unknown[][]) => void
}

const postgresCases: readonly Case[] = [
  { name: 'a series of a trillion rows sized by a parameter: the statement timeout', sql: 'SELECT count(*) FROM generate_series(1, :n)', parameters: { n: 1e12 }, code: 'DB_TIMEOUT' },
  { name: 'an unbounded recursive CTE: the statement timeout', sql: 'WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r', code: 'DB_TIMEOUT' },
  { name: 'string_agg over a parameter-sized series: the statement timeout', sql: "SELECT length(string_agg(owner, ',')) FROM accounts, generate_series(1, :n)", parameters: { n: 1e9 }, code: 'DB_TIMEOUT' },
  { name: 'a 5 MB repeat sized by a parameter: the response limit', sql: "SELECT repeat('x', CAST(:n AS int))", parameters: { n: 5_000_000 }, code: 'RESULT_TOO_LARGE' },
  { name: 'a 2 GB repeat: the server refuses values over 1 GB', sql: "SELECT length(repeat('x', CAST(:n AS int)))", parameters: { n: 2_000_000_000 }, code: 'DB_ERROR', says: /requested length too large/ },
  { name: 'a billion-element array_fill: the server caps array sizes', sql: 'SELECT array_length(array_fill(0, ARRAY[CAST(:n AS int)]), 1)', parameters: { n: 1e9 }, code: 'DB_ERROR', says: /array size exceeds the maximum allowed/ },
]

const mysqlCases: readonly Case[] = [
  // MariaDB stops recursion itself at max_recursive_iterations (1000 by default from 11.x, and here), else the timeout would.
  { name: 'an unbounded recursive CTE: max_recursive_iterations', sql: 'WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT COUNT(*) FROM r', check: (found) => assert.ok(Number(found[0]?.[0]) <= 1_000_001, `recursed ${String(found[0]?.[0])} times`) },
  { name: 'a recursive CTE carrying a padded string: max_recursive_iterations', sql: "WITH RECURSIVE r(i, s) AS (SELECT 1, LPAD('x', 1000, 'y') UNION ALL SELECT i + 1, s FROM r) SELECT MAX(i) FROM r", check: (found) => assert.ok(Number(found[0]?.[0]) <= 1_000_001, `recursed ${String(found[0]?.[0])} times`) },
  { name: 'a recursive CTE past max_recursive_iterations: the statement timeout', sql: 'WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT COUNT(*) FROM r, r AS r2, r AS r3', code: 'DB_TIMEOUT' },
  { name: 'a 5 MB REPEAT sized by a parameter: the response limit', sql: "SELECT REPEAT('x', :n)", parameters: { n: 5_000_000 }, code: 'RESULT_TOO_LARGE' },
  {
    name: 'a gigabyte REPEAT: NULL past max_allowed_packet',
    sql: "SELECT LENGTH(REPEAT('x', :n))",
    parameters: { n: 1e9 },
    check: (found) => assert.deepEqual(found, [[null]], 'the server built no gigabyte value'),
  },
  {
    name: 'GROUP_CONCAT of large values: cut at group_concat_max_len',
    sql: 'SELECT LENGTH(GROUP_CONCAT(REPEAT(owner, :n))) FROM accounts',
    parameters: { n: 1_000_000 },
    check: (found) => assert.ok(Number(found[0]?.[0]) <= 1024 * 1024, `GROUP_CONCAT returned ${String(found[0]?.[0])} characters`),
  },
]

for (const [engine, cases] of [['postgres', postgresCases], ['mysql', mysqlCases]] as const) {
  describe(`sql_query on ${engine}: sizes the guard cannot see stop at existing limits`, () => {
    let h: SqlQueryHarness
    before(async () => {
      h = await startSqlQueryHarness(engine)
    })
    after(() => h.close())

    for (const c of cases) {
      it(c.name, async () => {
        const args = { sql: c.sql.replace(/\baccounts\b/g, h.table), ...(c.parameters === undefined ? {} : { parameters: c.parameters }) }
        if (c.code !== undefined) {
          const { error } = await h.refused(args, c.code, { grant: oneSecond })
          if (c.says !== undefined) assert.match(error.message, c.says, c.sql)
        } else {
          const { result } = await h.run(args, { grant: oneSecond })
          c.check?.(rows(result.structured))
        }
      })
    }
  })
}
