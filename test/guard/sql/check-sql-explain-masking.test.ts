import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError } from '../../../src/errors.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import type { SqlEngine, SqlMode } from '../../../src/guard/sql/sql-check-request.js'

// EXPLAIN of a read returns a plan, never a row: a read-only grant with masked columns may explain
// reads that do not name them (also with *), and is told why when one does.

const maskedColumns = ['customers.phone', '*.email']
const ENGINES: readonly SqlEngine[] = ['postgres', 'mysql']

const allowed: readonly string[] = [
  'EXPLAIN SELECT id, status, total FROM orders WHERE created_at > now() - interval 1 day'.replace('interval 1 day', "'1 day'::interval"),
  'EXPLAIN SELECT * FROM orders',
  'EXPLAIN SELECT * FROM customers',
  'EXPLAIN SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = \'payment_failed\'',
]
const refusedExplains: readonly string[] = [
  'EXPLAIN SELECT email FROM customers',
  "EXPLAIN SELECT id FROM customers WHERE email = 'ada@example.com'",
  'EXPLAIN SELECT id FROM customers ORDER BY phone',
  'EXPLAIN SELECT o.id FROM orders o JOIN customers c ON c.email = o.status',
]

describe('EXPLAIN under masking', () => {
  for (const engine of ENGINES) {
    for (const sql of allowed) {
      const text = engine === 'mysql' ? sql.replace("'1 day'::interval", 'INTERVAL 1 DAY') : sql
      it(`${engine} allows ${text}`, async () => {
        const check = await checkSql({ engine, sql: text, mode: 'read-only', maskedColumns })
        assert.equal(check.statementKind, engine === 'postgres' ? 'ExplainStmt' : 'explain')
      })
    }
    for (const sql of refusedExplains) {
      it(`${engine} refuses, saying why, ${sql}`, async () => {
        await assert.rejects(checkSql({ engine, sql, mode: 'read-only', maskedColumns }), (error: unknown) => {
          assert.ok(error instanceof GuardError, String(error))
          assert.equal(error.code, 'SQL_MASKED_COLUMN')
          assert.match(error.message, /^column (email|phone) is masked for you, and an explained statement may not name it: a plan's row estimates can reveal its values/)
          return true
        })
      })
    }
  }

  it('still refuses * outside EXPLAIN, and EXPLAIN ANALYZE (it runs the statement) as the statement itself', async () => {
    const refusals: readonly [string, SqlMode][] = [
      ['SELECT * FROM customers ORDER BY 3', 'read-only'],
      ['EXPLAIN ANALYZE SELECT * FROM customers', 'read-write'],
      ['EXPLAIN (ANALYZE) SELECT id FROM customers c WHERE c::text LIKE \'%ada%\'', 'read-write'],
    ]
    for (const [sql, mode] of refusals) {
      await assert.rejects(checkSql({ engine: 'postgres', sql, mode, maskedColumns }), (e: unknown) => e instanceof GuardError && e.code === 'SQL_MASKED_COLUMN', sql)
    }
  })

  it('still refuses EXPLAIN of a write in read-only mode, whatever it names', async () => {
    await assert.rejects(checkSql({ engine: 'postgres', sql: "EXPLAIN UPDATE orders SET status = 'x'", mode: 'read-only', maskedColumns }), (e: unknown) => e instanceof GuardError && e.code === 'SQL_NOT_READ_ONLY')
  })
})
