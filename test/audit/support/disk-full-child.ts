/**
 * Runs inside a private mount namespace with a 64 KiB tmpfs at argv[2] (see audit-log-disk-full
 * test): fills the disk until the audit log fails, checks it fails closed, frees space, checks it
 * recovers by itself. Prints one JSON line of observations; exits 0 only if every check passed.
 */
import assert from 'node:assert/strict'
import { open, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { openAuditLog } from '../../../src/audit/audit-log.js'
import { verifyAuditFile } from '../../../src/audit/verify-audit.js'
import { createManualClock } from '../../../src/clock.js'
import { AuditError } from '../../../src/errors.js'

const dir = process.argv[2] ?? assert.fail('usage: disk-full-child <dir on a small tmpfs>')
const path = join(dir, 'audit.jsonl')
const clock = createManualClock(Date.UTC(2026, 0, 1))
const log = await openAuditLog({ path, clock, durability: 'fsync', retryIntervalMs: 1000 })
const padding = 'x'.repeat(1500)
for (let i = 0; i < 5; i++) await log.write({ type: 'tools.call', correlationId: `before-${i}` })

async function fill(): Promise<number> {
  const filler = await open(join(dir, 'filler'), 'a')
  let bytes = 0
  try {
    for (;;) bytes += (await filler.write(Buffer.alloc(4096))).bytesWritten
  } catch (error) {
    assert.ok(error instanceof Error && 'code' in error && error.code === 'ENOSPC', String(error))
  } finally {
    await filler.close()
  }
  return bytes
}

const isWriteFailed = (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_WRITE_FAILED'
const fillerBytes = await fill()
// Records still fit in the audit file's last page; write until the disk is really full.
let acceptedWhileFilling = 0
for (;;) {
  try {
    await log.write({ type: 'tools.call', correlationId: `fill-${acceptedWhileFilling}`, detail: { padding } })
    acceptedWhileFilling += 1
  } catch (error) {
    assert.ok(isWriteFailed(error), String(error))
    break
  }
}
assert.deepEqual(log.health(), { ok: false, reason: 'audit_write_failed' })
const failedSize = (await stat(path)).size
const text = await readFile(path, 'utf8')
// No torn bytes left behind: the file ends with the last committed record.
assert.ok(text.endsWith('\n'), 'expected: text.endsWith(\'\\n\')')
// Fail closed: refused without a probe (interval not elapsed), and refused by a probe (still full).
await assert.rejects(log.write({ type: 'tools.call', correlationId: 'during-1' }), isWriteFailed)
clock.advance(1000)
await assert.rejects(log.write({ type: 'tools.call', correlationId: 'during-2', detail: { padding } }), isWriteFailed)
assert.equal((await stat(path)).size, failedSize)

await unlink(join(dir, 'filler'))
clock.advance(1000)
await log.write({ type: 'tools.call', correlationId: 'after-1' })
assert.deepEqual(log.health(), { ok: true })

// A second outage, recovered by the periodic probe alone (no writes).
await fill()
await assert.rejects(log.write({ type: 'tools.call', correlationId: 'again', detail: { padding: padding.repeat(4) } }), isWriteFailed)
assert.equal(log.health().ok, false)
await unlink(join(dir, 'filler'))
const freedAt = performance.now()
while (!log.health().ok && performance.now() - freedAt < 5000) await new Promise((r) => setTimeout(r, 20))
const timerRecoveryMs = Math.round(performance.now() - freedAt)
assert.deepEqual(log.health(), { ok: true })
await log.write({ type: 'tools.call', correlationId: 'after-2' })
await log.close()

const verified = await verifyAuditFile(path)
assert.ok(verified.ok, JSON.stringify(verified))
const records = (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line))
const recoveries = records.filter((r) => r.type === 'audit.recovered')
assert.equal(recoveries.length, 2)
assert.deepEqual(recoveries[0].detail, { downMs: 2000, refusedWrites: 3, error: 'ENOSPC' })
assert.equal(records.at(-1).correlationId, 'after-2')
process.stdout.write(
  JSON.stringify({ fillerBytes, acceptedWhileFilling, failedSize, timerRecoveryMs, records: verified.records, recoveries: recoveries.map((r) => r.detail) }) + '\n',
)
