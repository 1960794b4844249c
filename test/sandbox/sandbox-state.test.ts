import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ConfigError } from '../../src/errors.js'
import { readSandboxState, removeSandboxState, sandboxStatePath, writeSandboxState } from '../../src/sandbox/sandbox-state.js'
import type { SandboxState } from '../../src/sandbox/sandbox-state.js'

const state: SandboxState = {
  issuer: 'http://127.0.0.1:4000',
  tokenEndpoint: 'http://127.0.0.1:4000/token',
  gatewayUrl: 'http://127.0.0.1:8080/mcp',
  clients: [{ id: 'alice', secret: 's' }],
  pid: 4242,
  startedAt: '2026-01-01T00:00:00.000Z',
}
let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-state-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('sandbox state file', () => {
  it('round-trips, is owner-only, and is removed only by its own pid', async () => {
    assert.equal(await readSandboxState(dir), undefined)
    await writeSandboxState(dir, state)
    assert.deepEqual(await readSandboxState(dir), state)
    assert.equal((await stat(sandboxStatePath(dir))).mode & 0o777, 0o600)
    await removeSandboxState(dir, 1)
    assert.deepEqual(await readSandboxState(dir), state)
    await removeSandboxState(dir, 4242)
    assert.equal(await readSandboxState(dir), undefined)
  })

  it('refuses to write or read an invalid state', async () => {
    await assert.rejects(writeSandboxState(dir, { ...state, gatewayUrl: 'http://10.0.0.1/mcp' }))
    await writeSandboxState(dir, state)
    const text = await readFile(sandboxStatePath(dir), 'utf8')
    await writeFile(sandboxStatePath(dir), text.replace('"pid": 4242', '"pid": -1'))
    await assert.rejects(readSandboxState(dir), (e: unknown) => e instanceof ConfigError && /^\.airlock\/sandbox\.json: pid: /.test(e.message))
    await writeFile(sandboxStatePath(dir), JSON.stringify({ ...state, extra: 1 }))
    await assert.rejects(readSandboxState(dir), ConfigError)
  })
})
