import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError } from '../../../src/errors.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import type { SqlEngine, SqlMode } from '../../../src/guard/sql/sql-check-request.js'

const maskedColumns = ['customers.phone', '*.email']

async function refused(engine: SqlEngine, sql: string, mode: SqlMode = 'read-only'): Promise<GuardError> {
  let caught: unknown
  await assert.rejects(checkSql({ engine, sql, mode, maskedColumns }), (error: unknown) => {
    caught = error
    return true
  })
  assert.ok(caught instanceof GuardError, `expected GuardError, got ${String(caught)}`)
  assert.equal(caught.code, 'SQL_MASKED_COLUMN', `${sql}: ${caught.message}`)
  return caught
}

/** Statements that would read a masked column other than under its own label. */
const bypasses: readonly (readonly [SqlEngine, string])[] = [
  ['postgres', 'SELECT phone AS p FROM customers'],
  ['postgres', "SELECT replace(email, '@', ' at ') AS e FROM customers"],
  ['postgres', "SELECT id, phone AS p, replace(email, '@', ' at ') AS e FROM customers"],
  ['postgres', 'SELECT row_to_json(c)::text FROM customers c'],
  ['postgres', 'SELECT c FROM customers c'],
  ['postgres', 'SELECT customers FROM customers'],
  ['postgres', 'SELECT (c).email FROM customers c'],
  ['postgres', 'SELECT c.row_to_json FROM customers c'],
  ['postgres', 'SELECT c.record_out FROM customers c'],
  ['postgres', 'SELECT to_jsonb(c.*) FROM customers c'],
  ['postgres', 'SELECT (c.*)::text FROM customers c'],
  ['postgres', 'SELECT ROW(c.*) FROM customers c'],
  ['postgres', "SELECT id FROM customers WHERE phone LIKE '+1-555-01%'"],
  ['postgres', "SELECT count(*) FROM customers WHERE email = 'ada@example.com'"],
  ['postgres', 'SELECT email::int FROM customers'],
  ['postgres', 'SELECT id FROM customers ORDER BY email'],
  ['postgres', 'SELECT email FROM customers ORDER BY 1'],
  ['postgres', 'SELECT * FROM customers ORDER BY 3'],
  ['postgres', 'SELECT DISTINCT email FROM customers'],
  ['postgres', 'SELECT count(*) FROM customers GROUP BY email'],
  ['postgres', 'SELECT email FROM customers GROUP BY 1'],
  ['postgres', 'SELECT id FROM customers c JOIN orders o ON o.email = c.email'],
  ['postgres', 'SELECT id FROM customers JOIN orders USING (email)'],
  ['postgres', 'SELECT id FROM customers NATURAL JOIN orders'],
  ['postgres', 'SELECT (SELECT email FROM customers LIMIT 1)'],
  ['postgres', 'SELECT email FROM (SELECT email FROM customers) s'],
  ['postgres', 'WITH s AS (SELECT email FROM customers) SELECT email FROM s'],
  ['postgres', 'WITH s(a, b, c) AS (SELECT * FROM customers) SELECT c FROM s'],
  ['postgres', 'SELECT c FROM (SELECT * FROM customers) s(a, b, c)'],
  ['postgres', 'SELECT x FROM customers AS c(id, x)'],
  ['postgres', 'SELECT id FROM customers WHERE id IN (SELECT * FROM ids)'],
  ['postgres', 'SELECT (SELECT * FROM single_column_table)'],
  ['postgres', "SELECT 'x' AS note UNION SELECT email FROM customers"],
  ['postgres', 'SELECT * FROM orders UNION ALL SELECT * FROM customers'],
  ['postgres', "SELECT email FROM customers INTERSECT SELECT 'ada@example.com'"],
  ['postgres', 'SELECT lag(email) OVER (ORDER BY id) FROM customers'],
  ['postgres', 'SELECT email COLLATE "C" FROM customers'],
  ['postgres', 'EXPLAIN SELECT email FROM customers WHERE email = $$x$$'],
  ['postgres', 'SELECT email FROM customers WHERE id = (SELECT id FROM customers WHERE phone > $$5$$)'],
  ['mysql', 'SELECT phone AS p FROM customers'],
  ['mysql', "SELECT REPLACE(email, '@', ' at ') AS e FROM customers"],
  ['mysql', "SELECT id FROM customers WHERE phone LIKE '+1-555-01%'"],
  ['mysql', 'SELECT CAST(email AS SIGNED) FROM customers'],
  ['mysql', 'SELECT id FROM customers ORDER BY email'],
  ['mysql', 'SELECT email FROM customers ORDER BY 1'],
  ['mysql', 'SELECT email FROM customers GROUP BY 1'],
  ['mysql', 'SELECT DISTINCT email FROM customers'],
  ['mysql', 'SELECT id FROM customers JOIN orders USING (email)'],
  ['mysql', 'SELECT c.id FROM customers c JOIN orders o ON o.email = c.email'],
  ['mysql', 'SELECT (SELECT email FROM customers LIMIT 1) AS x'],
  ['mysql', 'SELECT id FROM customers WHERE id IN (SELECT * FROM ids)'],
  ['mysql', 'SELECT * FROM orders UNION SELECT * FROM customers'],
  ['mysql', "SELECT 'x' AS note UNION SELECT email FROM customers"],
  ['mysql', 'WITH s (a, b) AS (SELECT * FROM customers) SELECT b FROM s'],
  ['mysql', 'SELECT `phone` AS `p` FROM customers'],
]

/** Writes and DDL a read-write grant with masks may not aim at masked columns either. */
const writeBypasses: readonly (readonly [SqlEngine, string])[] = [
  ['postgres', 'UPDATE customers SET note = email'],
  ['postgres', "UPDATE customers SET email = 'x'"],
  ['postgres', "INSERT INTO customers (id, email) VALUES (9, 'probe@example.com')"],
  ['postgres', 'INSERT INTO copies SELECT * FROM customers'],
  ['postgres', 'CREATE VIEW v AS SELECT * FROM customers'],
  ['postgres', 'ALTER TABLE customers RENAME COLUMN email TO contact'],
  ['postgres', 'CREATE TABLE copies AS SELECT id, email AS contact FROM customers'],
  ['postgres', 'DELETE FROM customers WHERE email LIKE $$a%$$ RETURNING id'],
  ['mysql', 'UPDATE customers SET note = email'],
  ['mysql', "INSERT INTO customers (id, email) VALUES (9, 'probe@example.com')"],
  ['mysql', 'ALTER TABLE customers RENAME COLUMN email TO contact'],
]

/** Reads that keep working: masked columns selected as is, and queries that do not touch them. */
const allowed: readonly (readonly [SqlEngine, string])[] = [
  ['postgres', 'SELECT id, email FROM customers'],
  ['postgres', 'SELECT * FROM customers'],
  ['postgres', 'SELECT c.* FROM customers c'],
  ['postgres', 'SELECT email FROM customers WHERE id = 1'],
  ['postgres', 'SELECT c.email, c.phone FROM customers c WHERE c.id = :id ORDER BY c.id'],
  ['postgres', 'SELECT email AS email, phone AS "PHONE" FROM customers'],
  ['postgres', 'SELECT s.* FROM (SELECT * FROM customers WHERE id > 1) s'],
  ['postgres', 'WITH s AS (SELECT * FROM customers) SELECT * FROM s'],
  ['postgres', 'SELECT id FROM customers c WHERE EXISTS (SELECT * FROM orders o WHERE o.customer_id = c.id)'],
  ['postgres', 'SELECT count(*), lower(name) FROM customers GROUP BY 2 ORDER BY 1'],
  ['postgres', 'TABLE customers'],
  ['postgres', 'SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.name ILIKE :n'],
  ['mysql', 'SELECT id, email FROM customers'],
  ['mysql', 'SELECT * FROM customers'],
  ['mysql', 'SELECT c.* FROM customers c'],
  ['mysql', 'SELECT email FROM customers WHERE id = 1'],
  ['mysql', 'SELECT s.id FROM (SELECT * FROM customers) s'],
  ['mysql', 'SELECT id FROM customers c WHERE EXISTS (SELECT * FROM orders o WHERE o.customer_id = c.id)'],
  ['mysql', 'SELECT COUNT(*), LOWER(name) FROM customers GROUP BY 2 ORDER BY 1'],
]

describe('checkSql with masked columns', () => {
  for (const [engine, sql] of bypasses) {
    it(`refuses ${engine}: ${sql}`, async () => {
      await refused(engine, sql)
    })
  }
  for (const [engine, sql] of writeBypasses) {
    it(`refuses read-write ${engine}: ${sql}`, async () => {
      await refused(engine, sql, 'read-write')
    })
  }
  for (const [engine, sql] of allowed) {
    it(`allows ${engine}: ${sql}`, async () => {
      const check = await checkSql({ engine, sql, mode: 'read-only', maskedColumns })
      assert.equal(check.engine, engine)
    })
  }
  it('names the masked column and what is allowed', async () => {
    const error = await refused('postgres', 'SELECT phone AS p FROM customers')
    assert.match(error.message, /column phone is masked for you: it may only be selected as is/)
  })
  it('matches masked names case-insensitively and by the column part of table.column globs', async () => {
    await refused('postgres', 'SELECT "EMAIL" || \'\' FROM other_table')
    await refused('mysql', 'SELECT LOWER(Phone) FROM suppliers')
  })
  it('leaves statements alone when nothing is masked', async () => {
    for (const [engine, sql] of bypasses) {
      await checkSql({ engine, sql: sql.replace(/:id|:n/g, '1'), mode: 'read-only', maskedColumns: [] }).catch((error: unknown) => {
        assert.ok(error instanceof GuardError, 'expected: error instanceof GuardError')
        assert.notEqual(error.code, 'SQL_MASKED_COLUMN', sql)
      })
    }
    const check = await checkSql({ engine: 'postgres', sql: 'SELECT phone AS p FROM customers', mode: 'read-only' })
    assert.equal(check.statementKind, 'SelectStmt')
  })
})
