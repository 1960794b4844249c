/**
 * Run under `prlimit --fsize=<bytes>` (see the file-size-limit test): writes large records until
 * one crosses the limit. The kernel writes what fits (a torn line) and fails the rest with EFBIG,
 * a real I/O fault. Prints the last acknowledged correlation id, then exits without cleaning up,
 * as a gateway stopped during the outage would.
 */
import assert from 'node:assert/strict'
import { openAuditLog } from '../../../src/audit/audit-log.js'
import { systemClock } from '../../../src/clock.js'
import { AuditError } from '../../../src/errors.js'

const path = process.argv[2] ?? assert.fail('usage: file-size-limit-child <audit file>')
const log = await openAuditLog({ path, clock: systemClock, durability: 'write' })
let acknowledged = ''
for (let i = 0; ; i++) {
  try {
    await log.write({ type: 'tools.call', correlationId: `c${i}`, detail: { padding: 'x'.repeat(10_000) } })
    acknowledged = `c${i}`
  } catch (error) {
    assert.ok(error instanceof AuditError && error.code === 'AUDIT_WRITE_FAILED' && errorCode(error.cause) === 'EFBIG', String(error))
    assert.deepEqual(log.health(), { ok: false, reason: 'audit_write_failed' })
    process.stdout.write(`${JSON.stringify({ acknowledged })}\n`)
    process.exit(0)
  }
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && 'code' in error ? error.code : undefined
}
