import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { verifyAuditFile, verifyAuditLines } from '../../src/audit/verify-audit.js'
import { createManualClock } from '../../src/clock.js'

let dir: string
let good: string[]
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-verify-'))
  const path = join(dir, 'source.jsonl')
  const log = await openAuditLog({ path, clock: createManualClock(0), durability: 'write' })
  for (let i = 1; i <= 5; i++) await log.write({ type: 'tools.call', tool: 'sql.query', correlationId: `r${i}`, args: { sql: 'select 1' } })
  await log.close()
  good = (await readFile(path, 'utf8')).trimEnd().split('\n')
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

function at(i: number): string {
  const line = good[i]
  assert.ok(line !== undefined)
  return line
}

describe('verifyAuditLines', () => {
  it('accepts an intact chain and an empty log', () => {
    const result = verifyAuditLines(good)
    assert.equal(result.ok, true)
    assert.ok(result.ok && result.records === 5)
    assert.deepEqual(verifyAuditLines([]).ok, true)
  })

  const cases: { name: string; lines: () => string[]; line: number; reason: string }[] = [
    { name: 'a changed field', lines: () => good.map((l, i) => (i === 2 ? l.replace('"r3"', '"rX"') : l)), line: 3, reason: 'edited' },
    { name: 'a changed field, whitespace only', lines: () => good.map((l, i) => (i === 1 ? l.replace('"type":', '"type": ') : l)), line: 2, reason: 'edited' },
    { name: 'a deleted line', lines: () => good.filter((_, i) => i !== 2), line: 3, reason: 'seq_gap' },
    { name: 'a deleted first line', lines: () => good.slice(1), line: 1, reason: 'seq_gap' },
    { name: 'swapped lines', lines: () => [at(0), at(2), at(1), at(3), at(4)], line: 2, reason: 'seq_gap' },
    { name: 'a duplicated line', lines: () => [at(0), at(1), at(1), at(2)], line: 3, reason: 'reordered' },
    { name: 'a non-JSON line', lines: () => [at(0), 'not json', at(1)], line: 2, reason: 'unparsable' },
    { name: 'an empty line', lines: () => [at(0), '', at(1)], line: 2, reason: 'unparsable' },
    { name: 'a truncated line', lines: () => [at(0), at(1).slice(0, 30)], line: 2, reason: 'unparsable' },
    { name: 'a record without chain fields', lines: () => [at(0), '{"type":"tools.call"}'], line: 2, reason: 'invalid_record' },
    {
      name: 'a forged first record',
      lines: () => [at(0).replace(/"prev":"0{64}"/, `"prev":"${'1'.repeat(64)}"`)],
      line: 1,
      reason: 'broken_chain',
    },
    {
      name: 'an edit with a recomputed seq but not the chain',
      lines: () => [at(0), at(1), at(3).replace('"seq":4', '"seq":3'), at(4)],
      line: 2,
      reason: 'edited',
    },
  ]
  for (const c of cases) {
    it(`reports ${c.name} at the first bad line`, () => {
      const result = verifyAuditLines(c.lines())
      assert.equal(result.ok, false)
      assert.ok(!result.ok)
      assert.equal(result.reason, c.reason)
      assert.equal(result.line, c.line)
      assert.ok(result.message.length > 0)
    })
  }
})

describe('verifyAuditFile', () => {
  it('verifies a file and returns the head hash', async () => {
    const path = join(dir, 'ok.jsonl')
    await writeFile(path, good.join('\n') + '\n')
    const result = await verifyAuditFile(path)
    assert.equal(result.ok, true)
    assert.ok(result.ok && result.records === 5 && /^[0-9a-f]{64}$/.test(result.head))
  })

  it('reports a last line cut short (no trailing newline) as truncated', async () => {
    const path = join(dir, 'cut.jsonl')
    await writeFile(path, good.join('\n') + '\n' + at(0).slice(0, 20))
    assert.deepEqual(await verifyAuditFile(path).then((r) => !r.ok && [r.line, r.reason]), [6, 'truncated'])
    await writeFile(path, good.join('\n'))
    assert.deepEqual(await verifyAuditFile(path).then((r) => !r.ok && [r.line, r.reason]), [5, 'truncated'])
  })

  it('reports an edit in a file larger than one read chunk', async () => {
    const path = join(dir, 'big.jsonl')
    const log = await openAuditLog({ path, clock: createManualClock(0), durability: 'write' })
    await Promise.all(Array.from({ length: 3000 }, (_, i) => log.write({ type: 'tools.list', correlationId: `x${i}` })))
    await log.close()
    const text = await readFile(path, 'utf8')
    assert.ok(text.length > 256 * 1024)
    assert.equal((await verifyAuditFile(path)).ok, true)
    await writeFile(path, text.replace('"x2500"', '"y2500"'))
    assert.deepEqual(await verifyAuditFile(path).then((r) => !r.ok && [r.line, r.reason]), [2501, 'edited'])
  })

  it('throws when the file does not exist', async () => {
    await assert.rejects(verifyAuditFile(join(dir, 'missing.jsonl')), { code: 'ENOENT' })
  })
})
