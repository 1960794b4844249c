import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import sqlQuery, { MAX_SQL_BYTES } from '../../tools/sql-query.js'
import { actions, startSqlQueryHarness, type SqlQueryHarness } from './support/sql-query-harness.js'

/** A statement of exactly `bytes` UTF-8 bytes: SELECT 1 followed by a comment padded with `pad`. */
function sqlOfBytes(bytes: number, pad = 'x'): string {
  const head = 'SELECT 1 -- '
  const padBytes = Buffer.byteLength(pad)
  const count = Math.floor((bytes - head.length) / padBytes)
  const rest = bytes - head.length - count * padBytes
  return head + pad.repeat(count) + 'y'.repeat(rest)
}

describe('sql_query SQL size limit (the Data API takes at most 64 KiB)', () => {
  let h: SqlQueryHarness
  before(async () => {
    h = await startSqlQueryHarness('postgres')
  })
  after(() => h.close())

  const input = z.object(sqlQuery.input)
  const cases = [
    { name: 'ASCII, one byte under', sql: sqlOfBytes(MAX_SQL_BYTES - 1), ok: true },
    { name: 'ASCII, exactly at the limit', sql: sqlOfBytes(MAX_SQL_BYTES), ok: true },
    { name: 'ASCII, one byte over', sql: sqlOfBytes(MAX_SQL_BYTES + 1), ok: false },
    { name: 'ASCII, the old 100 KB limit', sql: sqlOfBytes(100 * 1024), ok: false },
    { name: 'two-byte characters, exactly at the limit', sql: sqlOfBytes(MAX_SQL_BYTES, 'é'), ok: true },
    { name: 'two-byte characters, over in bytes but not in characters', sql: sqlOfBytes(MAX_SQL_BYTES + 2, 'é'), ok: false },
    { name: 'four-byte characters, over in bytes, far under in characters', sql: sqlOfBytes(MAX_SQL_BYTES + 4, '😀'), ok: false },
  ]

  it('builds the cases at the sizes they claim', () => {
    assert.equal(MAX_SQL_BYTES, 65536)
    assert.deepEqual(cases.map((c) => Buffer.byteLength(c.sql)), [65535, 65536, 65537, 102400, 65536, 65538, 65540])
    assert.ok(cases[5] !== undefined && cases[5].sql.length < MAX_SQL_BYTES, 'expected: cases[5] !== undefined && cases[5].sql.length < MAX_SQL_BYTES')
  })

  for (const c of cases) {
    it(`input schema: ${c.name} is ${c.ok ? 'accepted' : 'refused'}`, () => {
      const parsed = input.safeParse({ sql: c.sql })
      assert.equal(parsed.success, c.ok)
      if (!parsed.success) assert.match(parsed.error.issues[0]?.message ?? '', /65536/)
    })
  }

  for (const c of cases.filter((x) => !x.ok)) {
    it(`handler: ${c.name} is INPUT_INVALID before any AWS call`, async () => {
      const { calls } = await h.refused({ sql: c.sql }, 'INPUT_INVALID')
      assert.deepEqual(actions(calls), [])
    })
  }

  it('runs SQL exactly at the limit through the Data API', async () => {
    const { result, calls } = await h.run({ sql: sqlOfBytes(MAX_SQL_BYTES) })
    assert.equal(result.structured?.['rowCount'], 1)
    assert.ok(actions(calls).includes('ExecuteStatement:ok'), 'expected: actions(calls).includes(\'ExecuteStatement:ok\')')
  })
})
