import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { AUDIT_GENESIS_PREV, hashAuditLine } from '../../src/audit/audit-chain.js'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { verifyAuditFile } from '../../src/audit/verify-audit.js'
import { createManualClock } from '../../src/clock.js'
import { AuditError, ConfigError } from '../../src/errors.js'

const clock = createManualClock(Date.UTC(2026, 0, 2, 3, 4, 5))
let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-audit-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8')
  assert.ok(text.endsWith('\n'), 'expected: text.endsWith(\'\\n\')')
  return text.slice(0, -1).split('\n')
}

describe('openAuditLog', () => {
  it('writes { seq, ts, prev, ...event } lines chained by SHA-256 of the previous line', async () => {
    const path = join(dir, 'basic.jsonl')
    const log = await openAuditLog({ path, clock })
    await log.write({ type: 'gateway.start' })
    await log.write({ type: 'tools.call', tool: 'sql.query', decision: 'allow', grantId: 'g1' })
    await log.close()
    const [first, second] = await lines(path)
    assert.ok(first !== undefined && second !== undefined, 'expected: first !== undefined && second !== undefined')
    assert.deepEqual(JSON.parse(first), { seq: 1, ts: '2026-01-02T03:04:05.000Z', prev: AUDIT_GENESIS_PREV, type: 'gateway.start' })
    assert.deepEqual(Object.keys(JSON.parse(second)), ['seq', 'ts', 'prev', 'type', 'tool', 'decision', 'grantId'])
    assert.equal(JSON.parse(second).prev, hashAuditLine(first))
    assert.equal(log.head(), hashAuditLine(second))
  })

  it('resumes the chain when an existing file is reopened', async () => {
    const path = join(dir, 'reopen.jsonl')
    const a = await openAuditLog({ path, clock, durability: 'write' })
    await a.write({ type: 'gateway.start' })
    await a.write({ type: 'gateway.stop' })
    await a.close()
    const b = await openAuditLog({ path, clock })
    await b.write({ type: 'gateway.start' })
    await b.close()
    const all = await lines(path)
    assert.equal(all.length, 3)
    assert.equal(JSON.parse(all[2] ?? '').seq, 3)
    assert.deepEqual(await verifyAuditFile(path), { ok: true, records: 3, head: hashAuditLine(all[2] ?? ''), seq: 3, openIntents: [], incidents: { repaired: 0, reopened: 0, recovered: 0 } })
  })

  it('refuses to append after a last line that is not an audit record', async () => {
    const notJson = join(dir, 'not-json.jsonl')
    await writeFile(notJson, 'hello\n')
    await assert.rejects(openAuditLog({ path: notJson, clock }), (e: unknown) => e instanceof ConfigError && /last complete line is not JSON/.test(e.message))
    const notRecord = join(dir, 'not-record.jsonl')
    await writeFile(notRecord, '{"type":"gateway.start"}\n')
    await assert.rejects(openAuditLog({ path: notRecord, clock }), (e: unknown) => e instanceof ConfigError && /not an audit record/.test(e.message))
  })

  it('reports a path it cannot open as a configuration error', async () => {
    await assert.rejects(openAuditLog({ path: dir, clock }), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID')
    await assert.rejects(openAuditLog({ path: join(dir, 'no-such-dir', 'a.jsonl'), clock }), (e: unknown) => e instanceof ConfigError && /cannot open/.test(e.message))
  })

  it('group-commits 500 concurrent writes in order with contiguous seq', async () => {
    const path = join(dir, 'concurrent.jsonl')
    const commits: number[] = []
    const log = await openAuditLog({ path, clock, onCommit: (n) => commits.push(n) })
    await Promise.all(Array.from({ length: 500 }, (_, i) => log.write({ type: 'tools.call', correlationId: `c${i}` })))
    // A second wave while the first may still be settling, from a different tick.
    await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      await new Promise((resolve) => setImmediate(resolve))
      await log.write({ type: 'tools.list', correlationId: `d${i}` })
    }))
    await log.close()
    // Writes issued in the same tick share one write + fdatasync.
    assert.equal(commits[0], 500)
    assert.equal(commits.reduce((a, b) => a + b, 0), 550)
    const records = (await lines(path)).map((line) => JSON.parse(line))
    assert.equal(records.length, 550)
    records.forEach((record, i) => assert.equal(record.seq, i + 1))
    assert.deepEqual(records.slice(0, 500).map((r) => r.correlationId), Array.from({ length: 500 }, (_, i) => `c${i}`))
    assert.deepEqual(await verifyAuditFile(path).then((r) => r.ok), true)
  })

  it('appends the writes queued during a commit in one following commit', async () => {
    const commits: number[] = []
    const log = await openAuditLog({ path: join(dir, 'queued.jsonl'), clock, onCommit: (n) => commits.push(n) })
    const first = log.write({ type: 'gateway.start' })
    await new Promise((resolve) => setImmediate(resolve))
    await Promise.all([first, ...Array.from({ length: 100 }, () => log.write({ type: 'tools.list' }))])
    await log.close()
    assert.deepEqual(commits, [1, 100])
  })

  it('tells onCommit how long each commit took on its clock', async () => {
    // A clock that moves 3 ms each time it is read: the commit reads it before and after writing.
    let now = 0
    const ticking = { now: () => (now += 3) }
    const commits: Array<[number, number]> = []
    const log = await openAuditLog({ path: join(dir, 'timed.jsonl'), clock: ticking, onCommit: (records, ms) => commits.push([records, ms]) })
    await Promise.all([log.write({ type: 'tools.list' }), log.write({ type: 'tools.list' })])
    await log.close()
    assert.deepEqual(commits, [[2, 3]])
  })

  it('rejects writes after close', async () => {
    const log = await openAuditLog({ path: join(dir, 'closed.jsonl'), clock })
    const pending = log.write({ type: 'gateway.stop' })
    await log.close()
    await pending
    await assert.rejects(log.write({ type: 'gateway.stop' }), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_CLOSED')
  })

  it('reports its health: ok while writable, audit_closed once closed', async () => {
    const log = await openAuditLog({ path: join(dir, 'health.jsonl'), clock })
    assert.deepEqual(log.health(), { ok: true })
    await log.write({ type: 'gateway.start' })
    assert.deepEqual(log.health(), { ok: true })
    await log.close()
    assert.deepEqual(log.health(), { ok: false, reason: 'audit_closed' })
  })

  it('rejects an event that would overwrite chain fields or cannot be serialized, without wedging the log', async () => {
    const path = join(dir, 'misuse.jsonl')
    const log = await openAuditLog({ path, clock })
    const forged = JSON.parse('{"type":"tools.call","seq":99}')
    await assert.rejects(log.write(forged), TypeError)
    await assert.rejects(log.write({ type: 'tools.call', detail: { n: 1n } }), TypeError)
    await log.write({ type: 'tools.call' })
    await log.close()
    assert.equal((await lines(path)).length, 1)
  })
})
