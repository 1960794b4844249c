import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { openPostgresAudit } from '../../src/audit/open-postgres-audit.js'
import { postgresAuditTables } from '../../src/audit/postgres-audit-tables.js'
import { verifyPostgresTrail } from '../../src/audit/verify-postgres-trail.js'
import { createManualClock } from '../../src/clock.js'
import { createTeardown } from '../support/teardown.js'
import { createScratchSchema, scratchPool, type ScratchSchema } from './support/pg-audit-scratch.js'

/** The SQL block of the partitioning recipe in docs/audit-postgres.md, with its schema replaced. */
async function recipe(schema: string): Promise<string> {
  const doc = await readFile(new URL('../../docs/audit-postgres.md', import.meta.url), 'utf8')
  const block = /```sql partition-recipe\n([\s\S]*?)```/.exec(doc)?.[1]
  assert.ok(block !== undefined, 'the recipe block is in the docs')
  return block.replaceAll('audit.', `${schema}.`)
}

describe('the documented partitioning and retention recipe (real PostgreSQL)', () => {
  const teardown = createTeardown()
  const clock = createManualClock(Date.UTC(2026, 0, 20))
  let scratch: ScratchSchema

  before(async () => {
    scratch = await createScratchSchema('audit_part')
    teardown.add(() => scratch.drop())
    await scratch.admin.query(await recipe(scratch.name))
  })
  after(() => teardown.run())

  it('takes the sink as is, stays append-only, and verifies after the oldest partition is dropped', async () => {
    const pool = scratchPool()
    teardown.add(() => pool.end())
    const sink = await openPostgresAudit({ pool, clock, schema: scratch.name, table: 'airlock_audit' })
    teardown.add(() => sink.close())
    for (const [month, count] of [[0, 3], [1, 2], [4, 1]] as const) {
      clock.set(Date.UTC(2026, month, 15))
      for (let i = 0; i < count; i++) await sink.write({ type: 'tools.call', correlationId: `m${month}-${i}` })
    }
    const counts = async () =>
      (await scratch.admin.query<{ part: string; n: number }>(`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM ${scratch.name}.airlock_audit GROUP BY 1 ORDER BY 1`)).rows.map((r) => [r.part.replace(`${scratch.name}.`, ''), r.n])
    assert.deepEqual(await counts(), [['airlock_audit_2026_01', 3], ['airlock_audit_2026_02', 2], ['airlock_audit_default', 1]])
    await assert.rejects(scratch.admin.query(`DELETE FROM ${scratch.name}.airlock_audit WHERE seq = 1`), /append-only/)
    await assert.rejects(scratch.admin.query(`TRUNCATE ${scratch.name}.airlock_audit`), /append-only/)
    const tables = postgresAuditTables(scratch.name, 'airlock_audit')
    const whole = await verifyPostgresTrail(scratch.admin, tables)
    assert.ok(whole.ok && whole.chain.records === 6 && whole.chain.continuesFrom === undefined, JSON.stringify(whole))

    // Retention: the owner drops the oldest month.
    await scratch.admin.query(`DROP TABLE ${scratch.name}.airlock_audit_2026_01`)
    const pruned = await verifyPostgresTrail(scratch.admin, tables)
    assert.ok(pruned.ok && pruned.chain.records === 3 && pruned.chain.continuesFrom?.seq === 3, JSON.stringify(pruned))
    await sink.write({ type: 'tools.call', correlationId: 'after-retention' })
    const later = await verifyPostgresTrail(scratch.admin, tables)
    assert.ok(later.ok && later.chain.seq === 7, JSON.stringify(later))
  })
})
