import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { openAuditFile } from '../../src/audit/open-audit-file.js'
import { createManualClock } from '../../src/clock.js'
import { ConfigError } from '../../src/errors.js'

const clock = createManualClock(Date.UTC(2026, 0, 1))
let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-open-audit-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

const refused = (kind: RegExp) => (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID' && kind.test(e.message) && /not a regular file/.test(e.message)

describe('openAuditFile: only a regular file, never blocking', () => {
  it('creates a missing file with mode 0600 and returns its identity', async () => {
    const path = join(dir, 'new.jsonl')
    const file = await openAuditFile(path)
    await file.handle.close()
    const stats = await stat(path)
    assert.equal(stats.mode & 0o777, 0o600)
    assert.deepEqual([file.ino, file.size], [stats.ino, 0])
  })

  it('refuses a FIFO at once instead of waiting for a reader', { timeout: 10_000 }, async () => {
    const path = join(dir, 'audit.fifo')
    execFileSync('mkfifo', [path])
    const started = performance.now()
    // No reader is ever attached: a blocking open() would hang this test until its timeout.
    await assert.rejects(openAuditLog({ path, clock }), refused(/a FIFO/))
    assert.ok(performance.now() - started < 2000, 'expected: performance.now() - started < 2000')
  })

  it('refuses a directory, a socket, a character device and a symbolic link', async () => {
    const folder = join(dir, 'folder')
    await mkdir(folder)
    await assert.rejects(openAuditFile(folder), refused(/a directory/))
    const socketPath = join(dir, 'audit.sock')
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(socketPath, resolve))
    try {
      await assert.rejects(openAuditFile(socketPath), refused(/a socket/))
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    await assert.rejects(openAuditLog({ path: '/dev/null', clock }), refused(/a character device/))
    const target = join(dir, 'target.jsonl')
    await writeFile(target, '')
    const link = join(dir, 'link.jsonl')
    await symlink(target, link)
    await assert.rejects(openAuditLog({ path: link, clock }), refused(/a symbolic link/))
    // A symbolic link to a FIFO is refused as a link, without opening the FIFO.
    const fifoLink = join(dir, 'fifo-link.jsonl')
    execFileSync('mkfifo', [join(dir, 'target.fifo')])
    await symlink(join(dir, 'target.fifo'), fifoLink)
    await assert.rejects(openAuditFile(fifoLink), refused(/a symbolic link/))
  })
})
