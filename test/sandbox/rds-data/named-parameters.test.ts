import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { rewriteNamedParameters } from '../../../src/sandbox/rds-data/named-parameters.js'
import { RdsDataError } from '../../../src/sandbox/rds-data/rds-data-types.js'

const known = new Set(['id', 'name', 'x'])
const pg = (sql: string) => rewriteNamedParameters(sql, 'postgres', known, (_n, i) => `$${i}`)
const my = (sql: string) => rewriteNamedParameters(sql, 'mysql', known, () => '?')

describe('rewriteNamedParameters', () => {
  const cases: Array<[string, 'pg' | 'my', string, string, string[]]> = [
    ['plain', 'pg', 'select :id, :name', 'select $1, $2', ['id', 'name']],
    ['repeated', 'pg', 'select :x + :x', 'select $1 + $2', ['x', 'x']],
    ['cast is not a parameter', 'pg', 'select :id::int, now()::date', 'select $1::int, now()::date', ['id']],
    ['string literal', 'pg', "select ':id', 'it''s :x', :x", "select ':id', 'it''s :x', $1", ['x']],
    ['quoted identifier', 'pg', 'select 1 as ":id"', 'select 1 as ":id"', []],
    ['line comment', 'pg', 'select 1 -- :id\n, :x', 'select 1 -- :id\n, $1', ['x']],
    ['block comment', 'pg', 'select /* :id */ :x', 'select /* :id */ $1', ['x']],
    ['dollar quote', 'pg', 'select $f$ :id $f$, $$ :x $$, :name', 'select $f$ :id $f$, $$ :x $$, $1', ['name']],
    ['array slice', 'pg', 'select a[1:2] from t', 'select a[1:2] from t', []],
    ['mysql backslash escape', 'my', "select 'a\\' :id', :x", "select 'a\\' :id', ?", ['x']],
    ['mysql backtick and hash comment', 'my', 'select `:id` # :x\n, :name', 'select `:id` # :x\n, ?', ['name']],
  ]
  for (const [name, dialect, sql, text, names] of cases) {
    it(name, () => {
      const out = dialect === 'pg' ? pg(sql) : my(sql)
      assert.equal(out.text, text)
      assert.deepEqual(out.names, names)
    })
  }

  it('refuses a placeholder without a parameter, naming it', () => {
    assert.throws(() => pg('select :nope'), (err: unknown) => err instanceof RdsDataError && err.code === 'BadRequestException' && /nope/.test(err.message))
  })
})
