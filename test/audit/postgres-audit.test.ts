import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { AUDIT_GENESIS_PREV, hashAuditLine } from '../../src/audit/audit-chain.js'
import { createCheckpointSigner } from '../../src/audit/audit-checkpoint.js'
import type { AuditTrail } from '../../src/audit/audit-trail.js'
import { openPostgresAudit } from '../../src/audit/open-postgres-audit.js'
import { postgresAuditTables } from '../../src/audit/postgres-audit-tables.js'
import { verifyPostgresTrail } from '../../src/audit/verify-postgres-trail.js'
import { createManualClock } from '../../src/clock.js'
import { ConfigError } from '../../src/errors.js'
import { createTeardown } from '../support/teardown.js'
import { createScratchSchema, ed25519Pair, scratchPool, type ScratchSchema } from './support/pg-audit-scratch.js'

const clock = createManualClock(Date.UTC(2026, 2, 3, 4, 5, 6))
const keys = ed25519Pair()
const other = ed25519Pair()
const signer = createCheckpointSigner({ privateKey: keys.privateKey, clock })
const actor = (sub: string) => ({ iss: 'https://idp.example', sub, groups: ['sre'] })

describe('PostgreSQL audit sink (real PostgreSQL)', () => {
  const teardown = createTeardown()
  let scratch: ScratchSchema
  let table = 0

  before(async () => {
    scratch = await createScratchSchema()
    teardown.add(() => scratch.drop())
  })
  after(() => teardown.run())

  /** A sink on a fresh table in the scratch schema; its pool is closed at teardown. */
  async function open(name = `t${++table}`, options: { signer?: typeof signer } = {}): Promise<{ sink: AuditTrail; name: string }> {
    const pool = scratchPool()
    teardown.add(() => pool.end())
    const sink = await openPostgresAudit({ pool, clock, schema: scratch.name, table: name, ...options })
    teardown.add(() => sink.close())
    return { sink, name }
  }
  const verify = (name: string, publicKeys = [keys.publicKey]) => {
    return verifyPostgresTrail(scratch.admin, postgresAuditTables(scratch.name, name), publicKeys)
  }
  const rows = async (name: string) =>
    (await scratch.admin.query<{ seq: string; subject: string | null; correlation_id: string | null; hash: string; line: string }>(`SELECT seq, subject, correlation_id, hash, line FROM ${scratch.name}.${name} ORDER BY seq`)).rows

  it('commits chained records with their lookup columns, and verifies sealed after a checkpoint', async () => {
    const { sink, name } = await open(undefined, { signer })
    await sink.write({ type: 'gateway.start' })
    await sink.write({ type: 'tools.call', actor: actor('alice'), tool: 'sql_query', correlationId: 'c1', decision: 'allow', grantId: 'g' })
    const checkpoint = await sink.checkpoint()
    assert.equal(await sink.checkpoint(), undefined, 'nothing new since the last checkpoint')
    const stored = await rows(name)
    assert.equal(stored.length, 2)
    const [first, second] = stored
    assert.ok(first !== undefined && second !== undefined, 'two rows')
    assert.deepEqual(JSON.parse(first.line), { seq: 1, ts: '2026-03-03T04:05:06.000Z', prev: AUDIT_GENESIS_PREV, type: 'gateway.start' })
    assert.equal(JSON.parse(second.line).prev, hashAuditLine(first.line))
    assert.deepEqual([second.subject, second.correlation_id, second.hash], ['alice', 'c1', hashAuditLine(second.line)])
    assert.deepEqual(checkpoint && { seq: checkpoint.seq, hash: checkpoint.hash }, { seq: 2, hash: hashAuditLine(second.line) })
    const result = await verify(name)
    assert.ok(result.ok && result.chain.records === 2 && result.chain.head === hashAuditLine(second.line), JSON.stringify(result))
    assert.deepEqual(result.checkpoints, { ok: true, count: 1, signatures: 'verified', last: checkpoint, earlier: 0, sealed: true })
  })

  it('refuses UPDATE, DELETE and TRUNCATE on both tables, even for the table owner', async () => {
    const { sink, name } = await open(undefined, { signer })
    await sink.write({ type: 'gateway.start' })
    await sink.checkpoint()
    for (const sql of [`UPDATE ${scratch.name}.${name} SET type = 'x'`, `DELETE FROM ${scratch.name}.${name}`, `TRUNCATE ${scratch.name}.${name}`, `DELETE FROM ${scratch.name}.${name}_checkpoints`]) {
      await assert.rejects(scratch.admin.query(sql), (error: unknown) => error instanceof Error && /append-only/.test(error.message), sql)
    }
    assert.equal((await rows(name)).length, 1)
  })

  it('keeps one verifiable chain when two replicas write at once (group commits under the chain lock)', async () => {
    const a = await open('shared')
    const b = await open('shared')
    // Each replica: a burst (one group commit) and then one record at a time, both at once.
    const replica = async (sink: AuditTrail, sub: string) => {
      await Promise.all(Array.from({ length: 40 }, (_, i) => sink.write({ type: 'tools.call', actor: actor(sub), correlationId: `${sub}-burst-${i}` })))
      for (let i = 0; i < 60; i++) await sink.write({ type: 'tools.call', actor: actor(sub), correlationId: `${sub}-${i}` })
    }
    await Promise.all([replica(a.sink, 'a'), replica(b.sink, 'b')])
    const stored = await rows('shared')
    assert.equal(stored.length, 200)
    assert.deepEqual(stored.map((r) => Number(r.seq)), Array.from({ length: 200 }, (_, i) => i + 1))
    const bySubject = (sub: string) => stored.filter((r) => r.subject === sub).length
    assert.deepEqual([bySubject('a'), bySubject('b')], [100, 100])
    // Interleaved, not one replica's records after the other's: the chain really was shared.
    const switches = stored.filter((r, i) => i > 0 && r.subject !== stored[i - 1]?.subject).length
    assert.ok(switches >= 10, `replicas interleaved ${switches} times`)
    const result = await verify('shared')
    assert.ok(result.ok && result.chain.records === 200, JSON.stringify(result))
  })

  it('refuses a table that is not an audit table, and names that are not identifiers', async () => {
    await scratch.admin.query(`CREATE TABLE ${scratch.name}.foreign_t (id int)`)
    await scratch.admin.query(`CREATE TABLE ${scratch.name}.foreign_t_checkpoints (id int)`)
    const pool = scratchPool()
    teardown.add(() => pool.end())
    await assert.rejects(openPostgresAudit({ pool, clock, schema: scratch.name, table: 'foreign_t' }), (e: unknown) => e instanceof ConfigError && /not an Airlock audit table/.test(e.message))
    await assert.rejects(openPostgresAudit({ pool, clock, schema: scratch.name, table: 'x; DROP TABLE y' }), (e: unknown) => e instanceof ConfigError && /identifier/.test(e.message))
  })

  it('works for a role that may only INSERT and SELECT, once an owner created the tables (the documented grants)', async () => {
    const role = `airlock_w_${randomBytes(4).toString('hex')}`
    await scratch.admin.query(`CREATE ROLE ${role} LOGIN`)
    teardown.add(async () => {
      await scratch.admin.query(`DROP OWNED BY ${role}`)
      await scratch.admin.query(`DROP ROLE ${role}`)
    })
    const asRole = `postgres://${role}@127.0.0.1:5432/test`
    // Without the tables, the role cannot create them: a clear configuration error.
    await scratch.admin.query(`GRANT USAGE ON SCHEMA ${scratch.name} TO ${role}`)
    const early = scratchPool(asRole)
    teardown.add(() => early.end())
    await assert.rejects(openPostgresAudit({ pool: early, clock, schema: scratch.name, table: 'granted' }), (e: unknown) => e instanceof ConfigError && /cannot create the audit tables \(42501\)/.test(e.message))
    // The owner creates them (here: by opening a sink once), then grants exactly INSERT and SELECT.
    const { sink: owner } = await open('granted')
    await owner.close()
    await scratch.admin.query(`GRANT SELECT, INSERT ON ${scratch.name}.granted, ${scratch.name}.granted_checkpoints TO ${role}`)
    const pool = scratchPool(asRole)
    teardown.add(() => pool.end())
    const sink = await openPostgresAudit({ pool, clock, schema: scratch.name, table: 'granted', signer })
    teardown.add(() => sink.close())
    await sink.write({ type: 'gateway.start' })
    assert.ok((await sink.checkpoint()) !== undefined, 'the role can store checkpoints')
    const client = await pool.connect()
    try {
      for (const sql of [`UPDATE ${scratch.name}.granted SET type = 'x'`, `DELETE FROM ${scratch.name}.granted`, `TRUNCATE ${scratch.name}.granted_checkpoints`]) {
        // Refused by the grants themselves, before the append-only trigger could be reached.
        await assert.rejects(client.query(sql), (e: unknown) => e instanceof Error && /^permission denied for table/.test(e.message), sql)
      }
    } finally {
      client.release()
    }
    const result = await verify('granted')
    assert.ok(result.ok && result.chain.records === 1 && result.checkpoints.ok && result.checkpoints.sealed, JSON.stringify(result))
  })

  describe('verify finds tampering', () => {
    let name: string
    let sink: AuditTrail
    before(async () => {
      ;({ sink, name } = await open('tampered', { signer }))
      for (let i = 1; i <= 6; i++) await sink.write({ type: 'tools.call', actor: actor(`u${i}`), correlationId: `c${i}` })
      await sink.checkpoint()
    })
    /** Each case works on its own copy of the table, so the cases do not depend on each other. */
    async function copy(): Promise<string> {
      const target = `tampered_${++table}`
      await scratch.admin.query(`CREATE TABLE ${scratch.name}.${target} AS SELECT * FROM ${scratch.name}.${name}`)
      await scratch.admin.query(`CREATE TABLE ${scratch.name}.${target}_checkpoints AS SELECT * FROM ${scratch.name}.${name}_checkpoints`)
      return target
    }

    it('an intact copy verifies sealed', async () => {
      const result = await verify(await copy())
      assert.ok(result.ok && result.checkpoints.ok && result.checkpoints.sealed, JSON.stringify(result))
    })

    it('an edited record', async () => {
      const target = await copy()
      await scratch.tamper(`UPDATE ${scratch.name}.${target} SET line = replace(line, '"c3"', '"cX"'), correlation_id = 'cX' WHERE seq = 3`)
      const result = await verify(target)
      assert.deepEqual(result.ok ? result : { where: result.where, reason: result.reason }, { where: `${scratch.name}.${target} seq 3`, reason: 'edited' })
    })

    it('an edited lookup column (a record hidden from searches by subject)', async () => {
      const target = await copy()
      await scratch.tamper(`UPDATE ${scratch.name}.${target} SET subject = 'nobody' WHERE seq = 4`)
      const result = await verify(target)
      assert.ok(!result.ok && result.reason === 'edited' && result.where.endsWith('seq 4') && /subject/.test(result.message), JSON.stringify(result))
    })

    it('a deleted middle record', async () => {
      const target = await copy()
      await scratch.tamper(`DELETE FROM ${scratch.name}.${target} WHERE seq = 3`)
      const result = await verify(target)
      assert.ok(!result.ok && result.reason === 'seq_gap' && result.where.endsWith('seq 4'), JSON.stringify(result))
    })

    it('a cut tail covered by a checkpoint', async () => {
      const target = await copy()
      await scratch.tamper(`DELETE FROM ${scratch.name}.${target} WHERE seq >= 5`)
      const result = await verify(target)
      assert.ok(result.ok, 'the chain itself is intact')
      assert.deepEqual(result.checkpoints.ok ? result.checkpoints : { reason: result.checkpoints.reason, message: result.checkpoints.message }, {
        reason: 'cut_tail',
        message: `the checkpoint of ${clockIso()} covers records up to seq 6, but the log ends at seq 4: records 5..6 are missing`,
      })
    })

    it('a rewritten chain: every hash recomputed, but the checkpoint signed the old head', async () => {
      const target = await copy()
      // Re-chain from an edited record 2 onwards, exactly as the writer would: only the signature can tell.
      const all = await rows(target)
      let prev = hashAuditLine(all[0]?.line ?? '')
      for (const row of all.slice(1)) {
        const record = JSON.parse(row.line)
        const line = JSON.stringify({ ...record, prev, ...(record.seq === 2 ? { correlationId: 'forged' } : {}) })
        prev = hashAuditLine(line)
        await scratch.tamper(`UPDATE ${scratch.name}.${target} SET line = $1, hash = $2, correlation_id = $3 WHERE seq = $4`, [line, prev, JSON.parse(line).correlationId, row.seq])
      }
      const result = await verify(target)
      assert.ok(result.ok && !result.checkpoints.ok && result.checkpoints.reason === 'checkpoint_mismatch', JSON.stringify(result))
    })

    it('a checkpoint with a bad signature, and one by a key not given', async () => {
      const target = await copy()
      const [stored] = (await scratch.admin.query<{ checkpoint: string }>(`SELECT checkpoint FROM ${scratch.name}.${target}_checkpoints`)).rows
      const checkpoint = JSON.parse(stored?.checkpoint ?? '{}')
      // A forger claims a longer log: the signature is over the real head, not this one.
      await scratch.tamper(`INSERT INTO ${scratch.name}.${target}_checkpoints (seq, ts, checkpoint) VALUES (9, now(), $1)`, [JSON.stringify({ ...checkpoint, seq: 9 })])
      const forged = await verify(target)
      assert.ok(forged.ok && !forged.checkpoints.ok && forged.checkpoints.reason === 'bad_signature' && forged.checkpoints.where.endsWith('seq 9'), JSON.stringify(forged))
      const unknown = await verify(await copy(), [other.publicKey])
      assert.ok(unknown.ok && !unknown.checkpoints.ok && unknown.checkpoints.reason === 'unknown_key', JSON.stringify(unknown))
    })

    it('a table pruned from the start verifies from its first row, checkpoints before it skipped', async () => {
      const target = await copy()
      await scratch.admin.query(`INSERT INTO ${scratch.name}.${target}_checkpoints SELECT 2, ts, replace(checkpoint, '"seq":6', '"seq":2') FROM ${scratch.name}.${target}_checkpoints`)
      await scratch.tamper(`DELETE FROM ${scratch.name}.${target} WHERE seq <= 2`)
      // Without keys: the copied checkpoint was altered, so only its position is checked here.
      const result = await verifyPostgresTrail(scratch.admin, postgresAuditTables(scratch.name, target))
      assert.ok(result.ok && result.chain.continuesFrom?.seq === 2 && result.chain.records === 4, JSON.stringify(result))
      assert.ok(result.checkpoints.ok && result.checkpoints.earlier === 1 && result.checkpoints.sealed && result.checkpoints.signatures === 'unchecked', JSON.stringify(result.checkpoints))
    })

    it('records after the last checkpoint (a crash) verify, but unsealed and unproven', async () => {
      await sink.write({ type: 'tools.call', correlationId: 'after-1' })
      await sink.write({ type: 'tools.call', correlationId: 'after-2' })
      const result = await verify(name)
      assert.ok(result.ok && result.checkpoints.ok, JSON.stringify(result))
      assert.equal(result.checkpoints.sealed, false)
      assert.deepEqual(result.checkpoints.unproven, { from: 7, to: 8 })
    })
  })
})

function clockIso(): string {
  return new Date(clock.now()).toISOString()
}
