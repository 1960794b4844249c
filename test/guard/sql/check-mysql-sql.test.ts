import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { GuardError } from '../../../src/errors.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'

const run = promisify(execFile)

/** Which node-sql-parser files a fresh process has loaded after `steps` (run as an ES module). */
async function loadedGrammars(steps: string): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module'
    import { checkSql } from './src/guard/sql/check-sql.ts'
    ${steps}
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('node-sql-parser'))
    console.log(JSON.stringify(loaded.map((f) => f.slice(f.lastIndexOf('node-sql-parser')))))
  `
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../../../', import.meta.url) })
  const parsed: unknown = JSON.parse(stdout)
  assert.ok(Array.isArray(parsed), 'expected: Array.isArray(parsed)')
  return parsed.map(String).sort()
}

describe('checkSql on MySQL: which grammars are loaded', () => {
  it('loads only the MySQL grammar for statements MySQL reads, never the all-dialects bundle', async () => {
    assert.deepEqual(await loadedGrammars(`await checkSql({ engine: 'mysql', sql: 'SELECT id FROM accounts', mode: 'read-only' })`), ['node-sql-parser/build/mysql.js'])
  })

  it("loads MariaDB's grammar only once a statement needs it", async () => {
    const steps = `await checkSql({ engine: 'mysql', sql: 'DELETE FROM accounts WHERE id = 1 RETURNING id', mode: 'read-write' })`
    assert.deepEqual(await loadedGrammars(steps), ['node-sql-parser/build/mariadb.js', 'node-sql-parser/build/mysql.js'])
  })
})

describe('checkSql on MySQL: MariaDB-only syntax', () => {
  it('allows RETURNING in read-write mode, read through the MariaDB grammar', async () => {
    const check = await checkSql({ engine: 'mysql', sql: "INSERT INTO accounts (id, owner) VALUES (1, 'a') RETURNING id", mode: 'read-write' })
    assert.equal(check.statementKind, 'insert')
    assert.deepEqual(check.tables, ['accounts'])
  })

  it('refuses it in read-only mode', async () => {
    await assert.rejects(checkSql({ engine: 'mysql', sql: 'DELETE FROM accounts WHERE id = 1 RETURNING id', mode: 'read-only' }), (error: unknown) => {
      assert.ok(error instanceof GuardError, 'expected: error instanceof GuardError')
      assert.equal(error.code, 'SQL_NOT_READ_ONLY')
      return true
    })
  })

  it("reports the MySQL grammar's complaint when neither grammar reads the statement", async () => {
    await assert.rejects(checkSql({ engine: 'mysql', sql: 'SELEC 1', mode: 'read-only' }), (error: unknown) => {
      assert.ok(error instanceof GuardError, 'expected: error instanceof GuardError')
      assert.equal(error.code, 'SQL_PARSE_FAILED')
      assert.match(error.message, /^MySQL could not parse the statement: /)
      return true
    })
  })
})
