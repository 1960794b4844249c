import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

const child = fileURLToPath(new URL('./support/disk-full-child.ts', import.meta.url))
const root = fileURLToPath(new URL('../../', import.meta.url))
// A private mount namespace as an unprivileged user: the tmpfs is visible to the child only.
const namespaces = spawnSync('unshare', ['-rm', 'true']).status === 0

describe('audit log on a full disk (real 64 KiB tmpfs)', () => {
  it('fails closed while the disk is full, recovers by itself once space is freed, chain intact', { skip: namespaces ? false : 'unshare -rm (user + mount namespaces) not available here', timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-disk-full-'))
    try {
      const script = 'mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" --import tsx "$3" "$1"'
      const proc = spawn('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, process.execPath, child], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()))
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()))
      const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve))
      assert.equal(code, 0, `child failed:\n${err}${out}`)
      const report: unknown = JSON.parse(out)
      assert.ok(typeof report === 'object' && report !== null, 'expected: typeof report === \'object\' && report !== null')
      // The two outages: the first ended by a write after space was freed, the second by the timer.
      assert.deepEqual(Reflect.get(report, 'recoveries'), [
        { downMs: 2000, refusedWrites: 3, error: 'ENOSPC' },
        { downMs: 0, refusedWrites: 1, error: 'ENOSPC' },
      ])
      // The tmpfs lived in the child's namespace only: nothing was written to the real directory.
      assert.deepEqual(await readdir(dir), [])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
