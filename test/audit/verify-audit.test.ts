import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { hashAuditLine } from '../../src/audit/audit-chain.js'
import { verifyAuditFile, verifyAuditFiles, verifyAuditLines } from '../../src/audit/verify-audit.js'
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
  assert.ok(line !== undefined, 'expected: line !== undefined')
  return line
}

describe('verifyAuditLines', () => {
  it('accepts an intact chain and an empty log', () => {
    const result = verifyAuditLines(good)
    assert.equal(result.ok, true)
    assert.ok(result.ok && result.records === 5, 'expected: result.ok && result.records === 5')
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
      assert.ok(!result.ok, 'expected: !result.ok')
      assert.equal(result.reason, c.reason)
      assert.equal(result.line, c.line)
      assert.ok(result.message.length > 0, 'expected: result.message.length > 0')
    })
  }
})

describe('verifyAuditFile', () => {
  it('verifies a file and returns the head hash', async () => {
    const path = join(dir, 'ok.jsonl')
    await writeFile(path, good.join('\n') + '\n')
    const result = await verifyAuditFile(path)
    assert.equal(result.ok, true)
    assert.ok(result.ok && result.records === 5 && /^[0-9a-f]{64}$/.test(result.head), 'expected: result.ok && result.records === 5 && /^[0-9a-f]{64}$/.test(result.head)')
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
    assert.ok(text.length > 256 * 1024, 'expected: text.length > 256 * 1024')
    assert.equal((await verifyAuditFile(path)).ok, true)
    await writeFile(path, text.replace('"x2500"', '"y2500"'))
    assert.deepEqual(await verifyAuditFile(path).then((r) => !r.ok && [r.line, r.reason]), [2501, 'edited'])
  })

  it('throws when the file does not exist', async () => {
    await assert.rejects(verifyAuditFile(join(dir, 'missing.jsonl')), { code: 'ENOENT' })
  })
})

/** Chains plain records the way the log does (seq, ts, prev first), for record types of any kind. */
function chain(events: readonly Record<string, unknown>[], from = { seq: 0, prev: '0'.repeat(64) }): string[] {
  let { seq, prev } = from
  return events.map((event) => {
    seq += 1
    const line = JSON.stringify({ seq, ts: '2026-01-01T00:00:00.000Z', prev, ...event })
    prev = hashAuditLine(line)
    return line
  })
}

describe('intents and outcomes', () => {
  const alice = { iss: 'i', sub: 'alice', groups: ['ops'] }
  it('lists intents without a tools.call outcome, oldest first; outcomes without intent are fine', () => {
    const result = verifyAuditLines(
      chain([
        { type: 'tools.call', correlationId: 'old', tool: 'sql_query', outcome: 'ok' },
        { type: 'tools.intent', correlationId: 'c1', tool: 'ssm_run', actor: alice, argsHash: 'h1' },
        { type: 'tools.intent', correlationId: 'c2', tool: 'sql_query', actor: alice },
        { type: 'tools.call', correlationId: 'c1', tool: 'ssm_run', outcome: 'ok' },
        { type: 'tools.intent', correlationId: 'c3', tool: 'kubectl', actor: { ...alice, sub: 'bob' } },
        { type: 'tools.intent', tool: 'no-id' },
      ]),
    )
    assert.ok(result.ok, 'expected: result.ok')
    assert.deepEqual(result.openIntents, [
      { correlationId: 'c2', seq: 3, ts: '2026-01-01T00:00:00.000Z', tool: 'sql_query', sub: 'alice' },
      { correlationId: 'c3', seq: 5, ts: '2026-01-01T00:00:00.000Z', tool: 'kubectl', sub: 'bob' },
    ])
  })

  it('pairs an intent with its outcome across a reopened file', async () => {
    const first = chain([{ type: 'tools.intent', correlationId: 'c1', tool: 'ssm_run' }])
    const head = hashAuditLine(first[0] ?? '')
    const second = chain([{ type: 'audit.reopened', detail: { reason: 'moved' } }, { type: 'tools.call', correlationId: 'c1' }], { seq: 1, prev: head })
    await writeFile(join(dir, 'part1.jsonl'), first.join('\n') + '\n')
    await writeFile(join(dir, 'part2.jsonl'), second.join('\n') + '\n')
    const both = await verifyAuditFiles([join(dir, 'part1.jsonl'), join(dir, 'part2.jsonl')])
    assert.ok(both.ok && both.records === 3 && both.openIntents.length === 0 && both.continuesFrom === undefined, 'expected: both.ok && both.records === 3 && both.openIntents.length === 0 && both.continuesFrom === undefined')
    const alone = await verifyAuditFile(join(dir, 'part1.jsonl'))
    assert.ok(alone.ok && alone.openIntents.length === 1, 'expected: alone.ok && alone.openIntents.length === 1')
  })
})

describe('a file that continues another (audit.reopened first)', () => {
  it('verifies alone and says where it continues from; only audit.reopened may continue', () => {
    const continued = chain([{ type: 'audit.reopened', detail: { reason: 'deleted' } }, { type: 'tools.list' }], { seq: 41, prev: 'a'.repeat(64) })
    const result = verifyAuditLines(continued)
    assert.ok(result.ok && result.records === 2 && result.seq === 43, 'expected: result.ok && result.records === 2 && result.seq === 43')
    assert.deepEqual(result.continuesFrom, { seq: 41, head: 'a'.repeat(64) })
    const forged = chain([{ type: 'tools.list' }], { seq: 41, prev: 'a'.repeat(64) })
    assert.deepEqual(verifyAuditLines(forged).ok, false)
    // A reopen record in the middle must still chain from the line before it.
    const middle = [...chain([{ type: 'tools.list' }]), ...continued]
    assert.deepEqual(verifyAuditLines(middle), { ok: false, line: 2, reason: 'seq_gap', message: 'expected seq 2, found 42: records missing or out of order' })
  })

  it('names the file and its line when the second file does not continue the first', async () => {
    await writeFile(join(dir, 'a.jsonl'), chain([{ type: 'tools.list' }, { type: 'tools.list' }]).join('\n') + '\n')
    await writeFile(join(dir, 'b.jsonl'), chain([{ type: 'audit.reopened' }], { seq: 2, prev: 'b'.repeat(64) }).join('\n') + '\n')
    const result = await verifyAuditFiles([join(dir, 'a.jsonl'), join(dir, 'b.jsonl')])
    assert.ok(!result.ok, 'expected: !result.ok')
    // The line whose hash the next one does not hold: the first file's last line.
    assert.deepEqual([result.file, result.line, result.reason], [join(dir, 'a.jsonl'), 2, 'edited'])
    await writeFile(join(dir, 'c.jsonl'), chain([{ type: 'audit.reopened' }], { seq: 5, prev: 'b'.repeat(64) }).join('\n') + '\n')
    const gap = await verifyAuditFiles([join(dir, 'a.jsonl'), join(dir, 'c.jsonl')])
    assert.ok(!gap.ok, 'expected: !gap.ok')
    assert.deepEqual([gap.file, gap.line, gap.reason], [join(dir, 'c.jsonl'), 1, 'seq_gap'])
  })
})
