import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { verifyAuditFile } from '../../src/audit/verify-audit.js'
import { createManualClock } from '../../src/clock.js'
import { ConfigError } from '../../src/errors.js'

const clock = createManualClock(Date.UTC(2026, 0, 2, 3, 4, 5))
let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-audit-repair-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function records(path: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line))
}

async function logWith(name: string, count: number): Promise<string> {
  const path = join(dir, name)
  const log = await openAuditLog({ path, clock, durability: 'write' })
  for (let i = 0; i < count; i++) await log.write({ type: 'tools.call', correlationId: `c${i}` })
  await log.close()
  return path
}

describe('a torn final line at start', () => {
  it('is saved aside verbatim, cut off, and recorded in audit.repaired; the chain goes on intact', async () => {
    const path = await logWith('torn.jsonl', 3)
    const before = await readFile(path)
    const torn = '{"seq":4,"ts":"2026-01-02T03:04:05.000Z","prev":"ab'
    await appendFile(path, torn)
    const log = await openAuditLog({ path, clock })
    await log.write({ type: 'gateway.start' })
    await log.close()
    const side = `torn.jsonl.torn-2026-01-02T03-04-05.000Z`
    assert.equal(await readFile(join(dir, side), 'utf8'), torn)
    const all = await records(path)
    assert.deepEqual(all.map((r) => [r.seq, r.type]), [[1, 'tools.call'], [2, 'tools.call'], [3, 'tools.call'], [4, 'audit.repaired'], [5, 'gateway.start']])
    assert.deepEqual(all[3]?.detail, { offset: before.length, bytes: torn.length, sha256: createHash('sha256').update(torn).digest('hex'), savedTo: side })
    const verified = await verifyAuditFile(path)
    assert.ok(verified.ok && verified.records === 5 && verified.incidents.repaired === 1, JSON.stringify(verified))
    // Reopening a repaired file repairs nothing more.
    const again = await openAuditLog({ path, clock })
    await again.close()
    assert.equal((await records(path)).length, 5)
  })

  it('repairs a file that holds nothing but a torn line: the chain starts afresh', async () => {
    const path = join(dir, 'only-torn.jsonl')
    await writeFile(path, '{"seq":1,"ts":"2026-01-0')
    clock.advance(1)
    const log = await openAuditLog({ path, clock })
    await log.close()
    const all = await records(path)
    assert.deepEqual(all.map((r) => [r.seq, r.type]), [[1, 'audit.repaired']])
    assert.equal((await verifyAuditFile(path)).ok, true)
  })

  it('keeps every torn tail when the same second repairs twice', async () => {
    const path = await logWith('twice.jsonl', 1)
    await appendFile(path, 'first torn')
    await (await openAuditLog({ path, clock })).close()
    await appendFile(path, 'second torn')
    await (await openAuditLog({ path, clock })).close()
    const sides = (await readdir(dir)).filter((f) => f.startsWith('twice.jsonl.torn-')).sort()
    assert.equal(sides.length, 2)
    assert.deepEqual(await Promise.all(sides.map((f) => readFile(join(dir, f), 'utf8'))), ['first torn', 'second torn'])
    assert.equal((await verifyAuditFile(path)).ok, true)
  })
})

describe('a last complete line that is not a record (damage, not a crash)', () => {
  for (const [name, line] of [
    ['not JSON', 'hello'],
    ['JSON without chain fields', '{"type":"tools.call"}'],
  ] as const) {
    it(`is refused (${name}), torn tail or not, and nothing is moved or written`, async () => {
      const path = await logWith(`damaged-${name.length}.jsonl`, 2)
      await appendFile(path, `${line}\n`)
      for (const tail of ['', '{"seq":9,"ts"']) {
        await appendFile(path, tail)
        const content = await readFile(path)
        await assert.rejects(openAuditLog({ path, clock }), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID' && /last complete line is not/.test(e.message))
        assert.deepEqual(await readFile(path), content)
      }
      assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith(`damaged-${name.length}.jsonl.torn`)), [])
    })
  }
})
