import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { hashAuditLine } from '../../src/audit/audit-chain.js'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { auditCommand } from '../../src/cli/audit-command.js'
import type { CliIo } from '../../src/cli/cli-io.js'
import { createManualClock } from '../../src/clock.js'

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-audit-cli-'))
  const log = await openAuditLog({ path: join(dir, 'audit.jsonl'), clock: createManualClock(Date.UTC(2026, 0, 1)), durability: 'write' })
  await log.write({ type: 'gateway.start' })
  await log.write({ type: 'tools.call', actor: { iss: 'i', sub: 'alice', groups: ['dba'] }, tool: 'sql_query', connection: 'orders', grantId: 'dba-read', decision: 'allow', outcome: 'ok', durationMs: 12 })
  await log.write({ type: 'tools.call', actor: { iss: 'i', sub: 'mallory', groups: [] }, tool: 'sql_query', decision: 'deny', outcome: 'denied', code: 'POLICY_DENIED' })
  await log.close()
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: dir, env: {} }
  const code = await auditCommand(argv, io)
  return { code, out, err }
}

describe('airlock audit verify', () => {
  it('prints OK and exits 0 for an intact chain', async () => {
    const head = hashAuditLine((await readFile(join(dir, 'audit.jsonl'), 'utf8')).trimEnd().split('\n')[2] ?? '')
    assert.deepEqual(await run(['verify', 'audit.jsonl']), {
      code: 0,
      out:
        'OK: 3 records, chain intact\n' +
        `head: seq 3, sha256 ${head}\n` +
        'warning: unsealed: no checkpoint covers these records, so nothing proves that records 1..3 are all there (a cut tail cannot be detected)\n',
      err: '',
    })
  })

  it('names the file, line and reason of an edited record and exits 1', async () => {
    const text = await readFile(join(dir, 'audit.jsonl'), 'utf8')
    await writeFile(join(dir, 'edited.jsonl'), text.replace('"dba-read"', '"dba-write"'))
    const edited = await run(['verify', 'edited.jsonl'])
    assert.equal(edited.code, 1)
    assert.match(edited.out, /^edited\.jsonl:2: edited: /)
  })

  it('reports a deleted record as a seq gap', async () => {
    const lines = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trimEnd().split('\n')
    await writeFile(join(dir, 'deleted.jsonl'), [lines[0], lines[2]].join('\n') + '\n')
    const deleted = await run(['verify', 'deleted.jsonl'])
    assert.equal(deleted.code, 1)
    assert.match(deleted.out, /^deleted\.jsonl:2: seq_gap: /)
  })

  it('exits 1 with one line when the file cannot be read', async () => {
    assert.deepEqual(await run(['verify', 'missing.jsonl']), { code: 1, out: '', err: 'missing.jsonl: cannot read (ENOENT)\n' })
  })

  it('exits 2 on usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^airlock audit: which one: verify or tail\?\nusage: /],
      [['verify'], /^airlock audit verify: what to verify: give files, --postgres or --config\nusage: airlock audit verify /],
      [['verify', '--strict'], /^airlock audit verify: what to verify/],
      [['verify', '--bogus', 'a.jsonl'], /^airlock audit verify: unknown option --bogus\nusage: airlock audit verify /],
      [['verify', '--public-key'], /^airlock audit verify: --public-key needs a value\n/],
      [['tail', '-n', '0', 'a.jsonl'], /^airlock audit tail: -n: expected a whole number from 1 to 100000\n/],
      [['bogus', 'x'], /^airlock audit: unknown subcommand "bogus"\nusage: /],
    ]
    for (const [argv, expected] of cases) {
      const result = await run(argv)
      assert.equal(result.code, 2, argv.join(' '))
      assert.match(result.err, expected)
      assert.equal(result.out, '')
    }
  })
})

describe('airlock audit verify: intents, incidents, several files', () => {
  /** Chains plain records like the log does, for record types of any kind. */
  function chain(events: readonly Record<string, unknown>[], from = { seq: 0, prev: '0'.repeat(64) }): string {
    let { seq, prev } = from
    return events
      .map((event) => {
        seq += 1
        const line = JSON.stringify({ seq, ts: '2026-01-01T00:00:00.000Z', prev, ...event })
        prev = hashAuditLine(line)
        return `${line}\n`
      })
      .join('')
  }

  it('warns about intents without an outcome, exit 0, or 1 with --strict', async () => {
    await writeFile(
      join(dir, 'intents.jsonl'),
      chain([
        { type: 'tools.intent', correlationId: 'c1', tool: 'ssm_run', actor: { iss: 'i', sub: 'alice', groups: [] } },
        { type: 'tools.call', correlationId: 'c1', tool: 'ssm_run', outcome: 'ok' },
        { type: 'tools.intent', correlationId: 'c2', tool: 'ssm_run', actor: { iss: 'i', sub: 'bob\u001b[2J', groups: [] } },
      ]),
    )
    const head = hashAuditLine((await readFile(join(dir, 'intents.jsonl'), 'utf8')).trimEnd().split('\n')[2] ?? '')
    const out =
      'OK: 3 records, chain intact\n' +
      `head: seq 3, sha256 ${head}\n` +
      'warning: unsealed: no checkpoint covers these records, so nothing proves that records 1..3 are all there (a cut tail cannot be detected)\n' +
      'warning: 1 tool call(s) with an intent but no outcome (stopped or crashed mid-call; the action may have run):\n' +
      '  id=c2 tool=ssm_run sub=bob?[2J at 2026-01-01T00:00:00.000Z (#3)\n'
    assert.deepEqual(await run(['verify', 'intents.jsonl']), { code: 0, out, err: '' })
    assert.deepEqual(await run(['verify', '--strict', 'intents.jsonl']), { code: 1, out, err: '' })
    assert.equal((await run(['verify', '--strict', 'audit.jsonl'])).code, 0)
  })

  it('verifies files in order across a reopen, and notes incidents and a continuation', async () => {
    const first = chain([{ type: 'gateway.start' }, { type: 'audit.repaired', detail: {} }])
    await writeFile(join(dir, 'old.jsonl'), first)
    const head = hashAuditLine(first.trimEnd().split('\n')[1] ?? '')
    await writeFile(join(dir, 'new.jsonl'), chain([{ type: 'audit.reopened' }, { type: 'audit.recovered' }], { seq: 2, prev: head }))
    assert.deepEqual(await run(['verify', 'old.jsonl', 'new.jsonl']), {
      code: 0,
      out:
        'OK: 4 records in 2 files, chain intact\n' +
        `head: seq 4, sha256 ${hashAuditLine(chain([{ type: 'audit.reopened' }, { type: 'audit.recovered' }], { seq: 2, prev: head }).trimEnd().split('\n')[1] ?? '')}\n` +
        'note: audit incidents: 1 torn tail(s) moved aside, 1 file reopen(s), 1 recovery(ies) after write failures\n' +
        'warning: unsealed: no checkpoint covers these records, so nothing proves that records 1..4 are all there (a cut tail cannot be detected)\n',
      err: '',
    })
    const alone = await run(['verify', 'new.jsonl'])
    assert.equal(alone.code, 0)
    assert.match(alone.out, new RegExp(`^note: the first record continues an earlier file at seq 2 \\(head ${head}\\)`, 'm'))
    const reversed = await run(['verify', 'new.jsonl', 'old.jsonl'])
    assert.equal(reversed.code, 1)
    assert.match(reversed.out, /^old\.jsonl:1: reordered: /)
    assert.deepEqual(await run(['verify', 'old.jsonl', 'gone.jsonl']), { code: 1, out: '', err: 'gone.jsonl: cannot read (ENOENT)\n' })
  })
})

describe('airlock audit tail', () => {
  it('prints the last N records compactly', async () => {
    const result = await run(['tail', 'audit.jsonl', '-n', '2'])
    assert.equal(result.code, 0)
    assert.equal(
      result.out,
      '#2 2026-01-01T00:00:00.000Z tools.call sub=alice tool=sql_query conn=orders grant=dba-read decision=allow outcome=ok ms=12\n' +
        '#3 2026-01-01T00:00:00.000Z tools.call sub=mallory tool=sql_query decision=deny outcome=denied code=POLICY_DENIED\n',
    )
  })

  it('defaults to 10 records and marks lines that are not records', async () => {
    await writeFile(join(dir, 'mixed.jsonl'), 'garbage\n{"a":1}\n{"seq":1,"ts":"t","type":"x\\u001b[2J"}\n')
    const all = await run(['tail', 'audit.jsonl'])
    assert.equal(all.out.split('\n').length - 1, 3)
    assert.deepEqual(await run(['tail', 'mixed.jsonl']), { code: 0, out: '(unparsable line)\n(not an audit record)\n#1 t x?[2J\n', err: '' })
  })

  it('does not hang on a FIFO given as the file (verify or tail)', { timeout: 10_000 }, async () => {
    execFileSync('mkfifo', [join(dir, 'pipe.jsonl')])
    assert.deepEqual(await run(['verify', 'pipe.jsonl']), { code: 1, out: '', err: 'pipe.jsonl: cannot read (not a regular file)\n' })
    assert.deepEqual(await run(['tail', 'pipe.jsonl']), { code: 1, out: '', err: 'pipe.jsonl: cannot read (not a regular file)\n' })
  })

  it('exits 2 on a bad count and 1 on a missing file', async () => {
    for (const argv of [['tail'], ['tail', 'audit.jsonl', '-n', '0'], ['tail', 'audit.jsonl', '-n', 'x'], ['tail', 'audit.jsonl', '--bogus']]) {
      assert.equal((await run(argv)).code, 2, argv.join(' '))
    }
    assert.equal((await run(['tail', 'nope.jsonl'])).code, 1)
  })
})
