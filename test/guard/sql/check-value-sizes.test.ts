import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError } from '../../../src/errors.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import type { SqlEngine, SqlMode } from '../../../src/guard/sql/sql-check-request.js'
import { MAX_PRODUCED_CHARS, MAX_SERIES_ROWS } from '../../../src/guard/sql/value-size-limits.js'

const M = MAX_PRODUCED_CHARS
const R = MAX_SERIES_ROWS

/** Sizes at and just past each limit, and sizes that produce nothing. */
const cases: readonly { readonly engine: SqlEngine; readonly sql: string; readonly ok: boolean; readonly mode?: SqlMode }[] = [
  { engine: 'postgres', sql: `SELECT lpad('x', ${M})`, ok: true },
  { engine: 'postgres', sql: `SELECT lpad('x', ${M + 1})`, ok: false },
  { engine: 'postgres', sql: `SELECT repeat('ab', ${M / 2})`, ok: true },
  { engine: 'postgres', sql: `SELECT repeat('ab', ${M / 2 + 1})`, ok: false },
  { engine: 'postgres', sql: "SELECT repeat('x', -1000000000), repeat('', 1000000000)", ok: true },
  { engine: 'postgres', sql: `SELECT count(*) FROM generate_series(1, ${R})`, ok: true },
  { engine: 'postgres', sql: `SELECT count(*) FROM generate_series(1, ${R + 1})`, ok: false },
  { engine: 'postgres', sql: 'SELECT count(*) FROM generate_series(1, 1e12, 1e6)', ok: true },
  { engine: 'postgres', sql: 'SELECT count(*) FROM generate_series(1e12, 1)', ok: true },
  { engine: 'postgres', sql: 'SELECT count(*) FROM generate_series(1, 1e12, 0)', ok: true },
  { engine: 'postgres', sql: 'SELECT count(*) FROM generate_series(1, -(-1e12))', ok: false },
  { engine: 'postgres', sql: 'SELECT count(*) FROM generate_series(1, 2e12 / 2)', ok: false },
  { engine: 'postgres', sql: 'SELECT count(*) FROM generate_series(1, 2e12 - 1e12)', ok: false },
  { engine: 'postgres', sql: 'SELECT count(*) FROM generate_series(1, 5000) a, generate_series(1, 2000) b', ok: true },
  { engine: 'postgres', sql: 'SELECT count(*) FROM generate_series(1, 5000) a, generate_series(1, 2001) b', ok: false },
  { engine: 'postgres', sql: "SELECT count(*) FROM generate_series(now(), now() + interval '1 day', interval '1 second')", ok: true },
  { engine: 'postgres', sql: 'SELECT array_fill(0, ARRAY[10000, 1000])', ok: true },
  { engine: 'postgres', sql: 'SELECT array_fill(0, ARRAY[10000, 1001])', ok: false },
  { engine: 'postgres', sql: "SELECT concat(repeat('a', 600000), repeat('b', 600000))", ok: false },
  { engine: 'postgres', sql: "SELECT repeat('x', 1000000000::int)", ok: false },
  { engine: 'postgres', sql: "INSERT INTO t SELECT repeat('x', 1000000000)", ok: false, mode: 'read-write' },
  { engine: 'postgres', sql: "SELECT app.repeat('x', 1000000000)", ok: true, mode: 'read-write' },
  { engine: 'mysql', sql: `SELECT SPACE(${M})`, ok: true },
  { engine: 'mysql', sql: `SELECT SPACE(${M + 1})`, ok: false },
  { engine: 'mysql', sql: `SELECT RPAD('', ${M + 1}, 'x')`, ok: false },
  { engine: 'mysql', sql: "SELECT REPEAT('x', -1000000000), SPACE(-5)", ok: true },
  { engine: 'mysql', sql: "SELECT CONCAT_WS(',', REPEAT('a', 600000), REPEAT('b', 600000))", ok: false },
  { engine: 'mysql', sql: `SELECT COUNT(*) FROM seq_1_to_${R}`, ok: true },
  { engine: 'mysql', sql: `SELECT COUNT(*) FROM seq_0_to_${R}`, ok: false },
  { engine: 'mysql', sql: 'SELECT COUNT(*) FROM seq_1_to_1000000000000_step_1000000', ok: true },
  { engine: 'mysql', sql: "UPDATE t SET note = REPEAT('x', 1000000000)", ok: false, mode: 'read-write' },
]

describe('visible value sizes', () => {
  for (const c of cases) {
    const mode = c.mode ?? 'read-only'
    it(`${c.ok ? 'allows' : 'refuses'} (${c.engine}, ${mode}) ${c.sql.slice(0, 90)}`, async () => {
      const run = checkSql({ engine: c.engine, sql: c.sql, mode })
      if (c.ok) {
        await run.catch((e: unknown) => {
          // A read-write call of a non-built-in passes the size check; only the size refusal matters here.
          if (!(e instanceof GuardError && e.code !== 'SQL_VALUE_TOO_LARGE')) throw e
        })
        return
      }
      await assert.rejects(run, (e: unknown) => e instanceof GuardError && e.code === 'SQL_VALUE_TOO_LARGE' && /over the limit of \d+/.test(e.message))
    })
  }
})
