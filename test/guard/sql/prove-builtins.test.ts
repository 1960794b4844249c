import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { GuardError } from '../../../src/errors.js'
import { judgeBuiltinProbe } from '../../../src/guard/sql/builtin-probe.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import { postgresProbeSql, type PostgresCatalogNames } from '../../../src/guard/sql/prove-postgres-builtins.js'
import { mysqlStoredFunctionReaches, postgresReads, postgresUserCodeReaches } from './sql-fixtures.js'

const Names = z.object({ functions: z.array(z.string()), operators: z.array(z.string()), types: z.array(z.string()), castTargets: z.array(z.string()), relations: z.array(z.string()) })

async function postgresNames(sql: string) {
  const check = await checkSql({ engine: 'postgres', sql, mode: 'read-only' })
  return check.builtinProbe === undefined ? undefined : Names.parse(JSON.parse(check.builtinProbe.names))
}

describe('built-in probe: PostgreSQL names', () => {
  for (const c of postgresUserCodeReaches) {
    it(`the guard accepts, and the probe carries ${c.list} ${c.probes}: ${c.name}`, async () => {
      const names = await postgresNames(c.sql)
      assert.ok(names !== undefined, `${c.sql}: no probe`)
      assert.ok(names[c.list].includes(c.probes), `${c.sql}: ${JSON.stringify(names)}`)
    })
  }

  const cases: readonly { readonly sql: string; readonly expected: z.infer<typeof Names> }[] = [
    {
      sql: 'SELECT a.b.c, (r).f, lower(x), pg_catalog.upper(y) FROM t a WHERE x BETWEEN 1 AND 2',
      expected: { functions: ['b', 'c', 'f', 'lower'], operators: ['<', '<=', '>', '>='], types: [], castTargets: ['lower'], relations: ['"t"'] },
    },
    {
      sql: "SELECT CASE x WHEN 1 THEN 2 END, x::text, CAST(y AS pg_catalog.int4), '1'::int8 FROM t JOIN u USING (id) WHERE z IN (1) AND w OPERATOR(pg_catalog.+) 1 > 0",
      expected: { functions: [], operators: ['=', '>'], types: ['int8', 'text'], castTargets: ['int4', 'int8', 'text'], relations: ['"t"', '"u"'] },
    },
    {
      sql: 'SELECT x FROM t NATURAL JOIN u ORDER BY x USING <, y = ANY (SELECT 1)',
      expected: { functions: [], operators: ['<', '='], types: [], castTargets: [], relations: ['"t"', '"u"'] },
    },
    {
      sql: 'WITH c AS (SELECT 1) SELECT * FROM app."Odd""Name", c, pg_catalog.pg_class',
      expected: { functions: [], operators: [], types: [], castTargets: [], relations: ['"Odd""Name"'.replace(/^/, '"app".'), '"c"', '"pg_catalog"."pg_class"'].sort() },
    },
  ]
  for (const c of cases) {
    it(`collects exactly the resolved names: ${c.sql.slice(0, 60)}`, async () => {
      assert.deepEqual(await postgresNames(c.sql), c.expected)
    })
  }

  it('runs no probe when the statement resolves no names, or for read-write grants', async () => {
    assert.equal(await postgresNames('SELECT 1, 2 AS two'), undefined)
    assert.equal(await postgresNames("SELECT pg_catalog.lower('X')"), undefined)
    const rw = await checkSql({ engine: 'postgres', sql: 'SELECT lower(x) FROM t', mode: 'read-write' })
    assert.equal(rw.builtinProbe, undefined)
  })

  it('names only pg_catalog objects, qualified, in the probe itself (every branch)', async () => {
    const sql = postgresProbeSql({ functions: ['lower'], operators: ['='], types: ['int8'], castTargets: ['text'], relations: ['"t"'] })
    assert.equal(sql.match(/^SELECT '\w+' AS kind/gm)?.length, 6, 'all six branches')
    const calls = [...sql.matchAll(/([a-z_.]+)\(/g)].map((m) => m[1] ?? '').filter((name) => !['AS', 'IN', 'rel', 'e'].includes(name))
    assert.ok(calls.length > 3, sql)
    for (const name of calls) assert.match(name, /^(pg_catalog\.[a-z_]+|OPERATOR|ANY|CAST)$|^$/, `unqualified call ${name} in the probe`)
    assert.doesNotMatch(sql.replace(/OPERATOR\(pg_catalog\.[^)]+\)/g, ''), / (=|<>|->) /, 'an operator the search path could redirect')
  })

  it('leaves out only the branches whose name list is empty, never the cast branch', () => {
    const branches = (names: Partial<PostgresCatalogNames>) =>
      [...postgresProbeSql({ functions: [], operators: [], types: [], castTargets: [], relations: [], ...names }).matchAll(/^SELECT '(\w+)' AS kind/gm)].map((m) => m[1])
    assert.deepEqual(branches({}), ['cast'])
    assert.deepEqual(branches({ functions: ['lower'] }), ['function', 'cast'])
    assert.deepEqual(branches({ operators: ['='], castTargets: ['text'] }), ['operator', 'cast'])
    assert.deepEqual(branches({ types: ['int8'] }), ['type', 'cast'])
    assert.deepEqual(branches({ relations: ['"t"'] }), ['cast', 'function', 'operator'], 'functions and operators of views and policies')
    assert.deepEqual(branches({ functions: ['f'], operators: ['='], types: ['t'], relations: ['"t"'] }), ['function', 'operator', 'type', 'cast', 'function', 'operator'])
  })

  it('gives every read fixture a probe the emulated catalog can answer (valid JSON)', async () => {
    for (const sql of postgresReads) {
      const names = await postgresNames(sql)
      if (names !== undefined) assert.ok(Object.values(names).some((list) => list.length > 0), sql)
    }
  })
})

describe('built-in probe: MySQL names', () => {
  for (const c of mysqlStoredFunctionReaches) {
    it(`the guard accepts, and the probe carries ${c.probes}: ${c.name}`, async () => {
      const check = await checkSql({ engine: 'mysql', sql: c.sql, mode: 'read-only' })
      assert.ok(check.builtinProbe !== undefined, `${c.sql}: no probe`)
      assert.ok(check.builtinProbe.names.split(',').includes(c.probes), `${c.sql}: ${check.builtinProbe.names}`)
    })
  }

  it('runs no probe without function calls, or for read-write grants', async () => {
    assert.equal((await checkSql({ engine: 'mysql', sql: 'SELECT id FROM t', mode: 'read-only' })).builtinProbe, undefined)
    assert.equal((await checkSql({ engine: 'mysql', sql: 'SELECT LOWER(x) FROM t', mode: 'read-write' })).builtinProbe, undefined)
    assert.equal((await checkSql({ engine: 'mysql', sql: 'SELECT LOWER(x), COUNT(*) FROM t', mode: 'read-only' })).builtinProbe?.names, 'count,lower')
  })
})

describe('judgeBuiltinProbe', () => {
  it('passes when the probe found nothing', () => {
    assert.doesNotThrow(() => judgeBuiltinProbe([]))
  })

  it('refuses with SQL_FUNCTION_NOT_BUILTIN naming what it found (at most five)', () => {
    const rows = Array.from({ length: 7 }, (_, i) => ['function', `f${i}(orders)`])
    assert.throws(
      () => judgeBuiltinProbe(rows),
      (e: unknown) => e instanceof GuardError && e.code === 'SQL_FUNCTION_NOT_BUILTIN' && /function f0\(orders\), .*function f4\(orders\), …\)/.test(e.message) && !e.message.includes('f5'),
    )
    assert.throws(() => judgeBuiltinProbe([[undefined, undefined]]), /object \?/)
  })
})
