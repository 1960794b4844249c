import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { verifyAuditFile } from '../../src/audit/verify-audit.js'
import { createManualClock } from '../../src/clock.js'

const child = fileURLToPath(new URL('./support/file-size-limit-child.ts', import.meta.url))
const root = fileURLToPath(new URL('../../', import.meta.url))
const prlimit = spawnSync('prlimit', ['--fsize=1000000', 'true']).status === 0

describe('audit log hitting a file size limit (RLIMIT_FSIZE, EFBIG)', () => {
  it('leaves no torn line behind, so a restart opens the file and the chain holds every acknowledged record', { skip: prlimit ? false : 'prlimit not available', timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-fsize-'))
    try {
      const path = join(dir, 'audit.jsonl')
      const proc = spawn('prlimit', ['--fsize=1000000', process.execPath, '--import', 'tsx', child, path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()))
      assert.equal(await new Promise((resolve) => proc.on('exit', resolve)), 0, err)
      const { acknowledged } = JSON.parse(out)
      const text = await readFile(path, 'utf8')
      assert.ok(text.endsWith('\n'), 'the failed write left a torn line')
      // Restart (the original fault: a torn line made it refuse the file).
      const log = await openAuditLog({ path, clock: createManualClock(0) })
      await log.write({ type: 'gateway.start' })
      await log.close()
      const records = (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line))
      assert.equal(records.at(-2).correlationId, acknowledged)
      assert.equal(records.at(-1).type, 'gateway.start')
      assert.equal((await verifyAuditFile(path)).ok, true)
      assert.deepEqual(await readdir(dir), ['audit.jsonl'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
