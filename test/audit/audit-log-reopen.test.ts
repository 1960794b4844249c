import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { hashAuditLine } from '../../src/audit/audit-chain.js'
import { openAuditLog, type AuditLog } from '../../src/audit/audit-log.js'
import { verifyAuditFile, verifyAuditFiles, verifyAuditLines } from '../../src/audit/verify-audit.js'
import { createManualClock } from '../../src/clock.js'
import { AuditError } from '../../src/errors.js'

const clock = createManualClock(Date.UTC(2026, 0, 3))
let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-audit-reopen-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).trimEnd().split('\n')
}
const parse = (line: string | undefined): Record<string, unknown> => JSON.parse(line ?? 'null')

// Probes are let through by advancing the manual clock past this: the log's own retry timer (as
// often as this, in real time) must not probe in the middle of a test and take its writes along.
const RETRY_MS = 600_000

async function started(name: string): Promise<{ path: string; log: AuditLog }> {
  const path = join(dir, name)
  const log = await openAuditLog({ path, clock, durability: 'write', retryIntervalMs: RETRY_MS })
  await log.write({ type: 'gateway.start' })
  await log.write({ type: 'tools.call', correlationId: 'a' })
  return { path, log }
}

const writeFailed = (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_WRITE_FAILED'

describe('the audit file moved, deleted or replaced under a running log', () => {
  it('moved: continues in a new file at the path whose audit.reopened record links the chain', async () => {
    const { path, log } = await started('moved.jsonl')
    const head = log.head()
    await rename(path, `${path}.1`)
    await log.write({ type: 'tools.call', correlationId: 'b' })
    await log.close()
    assert.equal((await lines(`${path}.1`)).length, 2)
    const fresh = await lines(path)
    const first = parse(fresh[0])
    assert.deepEqual([first.seq, first.prev, first.type, Reflect.get(Object(first.detail), 'reason')], [3, head, 'audit.reopened', 'moved'])
    assert.deepEqual([parse(fresh[1]).seq, parse(fresh[1]).correlationId], [4, 'b'])
    // Verified alone, the new file says where it continues from; together, the link is checked.
    const alone = await verifyAuditFile(path)
    assert.ok(alone.ok && alone.continuesFrom?.seq === 2 && alone.continuesFrom.head === head, JSON.stringify(alone))
    const both = await verifyAuditFiles([`${path}.1`, path])
    assert.ok(both.ok && both.records === 4 && both.continuesFrom === undefined && both.incidents.reopened === 1, JSON.stringify(both))
    assert.equal(verifyAuditLines([...(await lines(`${path}.1`)), ...fresh]).ok, true)
    // In the wrong order the link does not hold.
    assert.equal((await verifyAuditFiles([path, `${path}.1`])).ok, false)
  })

  it('deleted: records go on in a new file, not into the unlinked one', async () => {
    const { path, log } = await started('deleted.jsonl')
    await unlink(path)
    await log.write({ type: 'tools.call', correlationId: 'b' })
    await log.write({ type: 'tools.call', correlationId: 'c' })
    await log.close()
    const fresh = (await lines(path)).map(parse)
    assert.deepEqual(fresh.map((r) => [r.seq, r.type, r.correlationId]), [[3, 'audit.reopened', undefined], [4, 'tools.call', 'b'], [5, 'tools.call', 'c']])
    assert.equal(Reflect.get(Object(fresh[0]?.detail), 'reason'), 'deleted')
    assert.equal((await verifyAuditFile(path)).ok, true)
  })

  it('replaced by an empty file (rotation that creates the next file): writes go to it', async () => {
    const { path, log } = await started('rotated.jsonl')
    await rename(path, `${path}.1`)
    await writeFile(path, '')
    await log.write({ type: 'tools.call', correlationId: 'b' })
    await log.close()
    const fresh = (await lines(path)).map(parse)
    assert.deepEqual([fresh[0]?.type, Reflect.get(Object(fresh[0]?.detail), 'reason'), fresh[1]?.correlationId], ['audit.reopened', 'replaced', 'b'])
    assert.equal((await verifyAuditFiles([`${path}.1`, path])).ok, true)
  })

  it('replaced by a file that is not this log: fails closed until it is gone, then recovers', async () => {
    const { path, log } = await started('foreign.jsonl')
    await rename(path, `${path}.1`)
    await writeFile(path, 'someone else\n')
    await assert.rejects(log.write({ type: 'tools.call', correlationId: 'b' }), writeFailed)
    assert.deepEqual(log.health(), { ok: false, reason: 'audit_write_failed' })
    assert.equal(await readFile(path, 'utf8'), 'someone else\n')
    await rename(path, `${path}.foreign`)
    await assert.rejects(log.write({ type: 'tools.call', correlationId: 'early' }), writeFailed, 'no probe before the retry interval has passed')
    clock.advance(RETRY_MS)
    // The first write probes; the second, made while that probe is in flight, waits for it.
    await Promise.all([log.write({ type: 'tools.call', correlationId: 'c' }), log.write({ type: 'tools.call', correlationId: 'd' })])
    assert.deepEqual(log.health(), { ok: true })
    await log.close()
    const fresh = (await lines(path)).map(parse)
    assert.deepEqual(fresh.map((r) => r.type), ['audit.reopened', 'audit.recovered', 'tools.call', 'tools.call'])
    assert.deepEqual(fresh[1]?.detail, { downMs: RETRY_MS, refusedWrites: 2, error: 'AUDIT_WRITE_FAILED' })
    assert.equal((await verifyAuditFiles([`${path}.1`, path])).ok, true)
  })

  it('replaced by a FIFO: fails closed at once (no blocking open), recovers when it is removed', { timeout: 10_000 }, async () => {
    const { path, log } = await started('fifo.jsonl')
    await unlink(path)
    execFileSync('mkfifo', [path])
    await assert.rejects(log.write({ type: 'tools.call', correlationId: 'b' }), writeFailed)
    await unlink(path)
    clock.advance(RETRY_MS)
    await log.write({ type: 'tools.call', correlationId: 'c' })
    await log.close()
    assert.deepEqual((await lines(path)).map(parse).map((r) => r.type), ['audit.reopened', 'audit.recovered', 'tools.call'])
    const verified = await verifyAuditFile(path)
    assert.ok(verified.ok && verified.continuesFrom?.seq === 2, 'expected: verified.ok && verified.continuesFrom?.seq === 2')
    assert.equal(verified.head, hashAuditLine((await lines(path)).at(-1) ?? ''))
  })
})
