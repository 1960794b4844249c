import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { AuditTrail } from '../../src/audit/audit-trail.js'
import { openPostgresAudit, type PostgresAuditOptions } from '../../src/audit/open-postgres-audit.js'
import { postgresAuditTables } from '../../src/audit/postgres-audit-tables.js'
import { verifyPostgresTrail } from '../../src/audit/verify-postgres-trail.js'
import { createManualClock } from '../../src/clock.js'
import { AuditError } from '../../src/errors.js'
import { createTeardown } from '../support/teardown.js'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js'
import { createScratchSchema, scratchPool, type ScratchSchema } from './support/pg-audit-scratch.js'

const clock = createManualClock(Date.UTC(2026, 3, 1))
const isWriteFailed = (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_WRITE_FAILED'

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time')
    await sleep(20)
  }
}

describe('PostgreSQL audit sink through outages (real PostgreSQL behind a TCP proxy)', () => {
  const teardown = createTeardown()
  let scratch: ScratchSchema
  let proxy: TcpProxy
  let table = 0

  before(async () => {
    scratch = await createScratchSchema()
    teardown.add(() => scratch.drop())
    proxy = await startTcpProxy({ port: 5432 })
    teardown.add(() => proxy.close())
  })
  after(() => teardown.run())

  async function open(options: Partial<PostgresAuditOptions> = {}, timeoutMs = 1_000): Promise<{ sink: AuditTrail; name: string }> {
    const name = `o${++table}`
    const pool = scratchPool(`postgres://postgres@127.0.0.1:${proxy.port}/test`, timeoutMs)
    teardown.add(() => pool.end())
    const sink = await openPostgresAudit({ pool, clock, schema: scratch.name, table: name, retryIntervalMs: 200, pingIntervalMs: 0, ...options })
    teardown.add(() => sink.close())
    return { sink, name }
  }
  const records = async (name: string) =>
    (await scratch.admin.query<{ line: string }>(`SELECT line FROM ${scratch.name}.${name} ORDER BY seq`)).rows.map((r) => JSON.parse(r.line))

  it('fails closed while PostgreSQL is down and recovers on the next write once it is back, chain intact', async () => {
    const { sink, name } = await open()
    await sink.write({ type: 'tools.call', correlationId: 'before' })
    await proxy.stop()
    const downAt = clock.now()
    await assert.rejects(sink.write({ type: 'tools.call', correlationId: 'during-1' }), isWriteFailed)
    assert.deepEqual(sink.health(), { ok: false, reason: 'audit_write_failed' })
    // Refused at once until a retry is due: no connection attempt per call during an outage.
    await assert.rejects(sink.write({ type: 'tools.call', correlationId: 'during-2' }), isWriteFailed)
    await proxy.start()
    clock.advance(1_000)
    await sink.write({ type: 'tools.call', correlationId: 'after' })
    assert.deepEqual(sink.health(), { ok: true })
    const all = await records(name)
    assert.deepEqual(all.map((r) => r.correlationId ?? r.type), ['before', 'audit.recovered', 'after'])
    const { error, ...counts } = all[1].detail
    assert.deepEqual(counts, { downMs: clock.now() - downAt, refusedWrites: 2 })
    // Refused, or cut while the pool still held the connection: either way a fixed code, no message.
    assert.ok(['ECONNREFUSED', 'connection_lost'].includes(error), error)
    const verified = await verifyPostgresTrail(scratch.admin, postgresAuditTables(scratch.name, name))
    assert.ok(verified.ok && verified.chain.records === 3 && verified.chain.incidents.recovered === 1, JSON.stringify(verified))
  })

  it('recovers by its own retry timer, with no write to trigger it', async () => {
    const { sink, name } = await open()
    await proxy.stop()
    await assert.rejects(sink.write({ type: 'tools.call', correlationId: 'lost' }), isWriteFailed)
    await proxy.start()
    await until(() => sink.health().ok)
    assert.deepEqual((await records(name)).map((r) => r.type), ['audit.recovered'])
  })

  it('notices an outage while idle (readiness) by pinging, before any call fails', async () => {
    const { sink } = await open({ pingIntervalMs: 100 })
    await sink.write({ type: 'gateway.start' })
    await proxy.stop()
    await until(() => !sink.health().ok)
    assert.deepEqual(sink.health(), { ok: false, reason: 'audit_write_failed' })
    await proxy.start()
    await until(() => sink.health().ok)
  })

  it('does not hang on a server that stops answering: writes fail within the timeouts, then recover', { timeout: 30_000 }, async () => {
    const { sink, name } = await open({}, 500)
    await sink.write({ type: 'tools.call', correlationId: 'before' })
    proxy.freeze()
    const started = performance.now()
    await assert.rejects(sink.write({ type: 'tools.call', correlationId: 'hung' }), isWriteFailed)
    const elapsed = performance.now() - started
    // Pooled connection: the client-side query timeout (statement timeout + 1 s) ends the wait.
    assert.ok(elapsed < 3_000, `write failed after ${Math.round(elapsed)} ms`)
    proxy.thaw()
    clock.advance(1_000)
    await sink.write({ type: 'tools.call', correlationId: 'after' })
    assert.deepEqual((await records(name)).map((r) => r.correlationId ?? r.type), ['before', 'audit.recovered', 'after'])
  })

  it('does not hang connecting to a server that accepts but never answers', { timeout: 30_000 }, async () => {
    const { sink } = await open({}, 500)
    proxy.freeze()
    // New connections only: the idle pooled ones are cut, as a restarted server would.
    await proxy.stop()
    await proxy.start()
    const started = performance.now()
    await assert.rejects(sink.write({ type: 'tools.call', correlationId: 'hung' }), isWriteFailed)
    assert.ok(performance.now() - started < 3_000, 'the connect timeout ends the wait')
    proxy.thaw()
  })

  it('refuses to start while PostgreSQL is unreachable', async () => {
    await proxy.stop()
    try {
      const pool = scratchPool(`postgres://postgres@127.0.0.1:${proxy.port}/test`, 500)
      teardown.add(() => pool.end())
      await assert.rejects(openPostgresAudit({ pool, clock, schema: scratch.name, table: 'never' }), (e: unknown) => isWriteFailed(e) && /unreachable/.test(String(e)))
    } finally {
      await proxy.start()
    }
  })
})
