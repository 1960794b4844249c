import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createCheckpointSigner } from '../../src/audit/audit-checkpoint.js'
import { openPostgresAudit } from '../../src/audit/open-postgres-audit.js'
import { auditCommand } from '../../src/cli/audit-command.js'
import type { CliIo } from '../../src/cli/cli-io.js'
import { createManualClock } from '../../src/clock.js'
import { createTeardown } from '../support/teardown.js'
import { PG_URL, createScratchSchema, ed25519Pair, scratchPool, type ScratchSchema } from '../audit/support/pg-audit-scratch.js'

const clock = createManualClock(Date.UTC(2026, 6, 7, 8, 9, 10))
const TS = '2026-07-07T08:09:10.000Z'
const keys = ed25519Pair()

describe('airlock audit verify|tail on PostgreSQL (real PostgreSQL)', () => {
  const teardown = createTeardown()
  let scratch: ScratchSchema
  let dir: string
  const table = 'trail'

  async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
    let out = ''
    let err = ''
    const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: dir, env }
    const code = await auditCommand(argv, io)
    return { code, out, err }
  }
  const at = () => ['--postgres', PG_URL, '--schema', scratch.name, '--table', table]

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-audit-pg-cli-'))
    teardown.add(() => rm(dir, { recursive: true, force: true }))
    scratch = await createScratchSchema()
    teardown.add(() => scratch.drop())
    await writeFile(join(dir, 'public.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }))
    await writeFile(join(dir, 'private.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    const pool = scratchPool()
    teardown.add(() => pool.end())
    const sink = await openPostgresAudit({ pool, clock, schema: scratch.name, table, signer: createCheckpointSigner({ privateKey: keys.privateKey, clock }) })
    await sink.write({ type: 'gateway.start' })
    await sink.write({ type: 'tools.call', actor: { iss: 'i', sub: 'alice', groups: [] }, tool: 'sql_query', connection: 'orders', grantId: 'dba', decision: 'allow', outcome: 'ok', durationMs: 7, correlationId: 'abc' })
    await sink.write({ type: 'gateway.stop' })
    await sink.checkpoint()
    await sink.close()
  })
  after(() => teardown.run())

  it('verifies the table: head, checkpoints and seal', async () => {
    const [head] = (await scratch.admin.query<{ hash: string }>(`SELECT hash FROM ${scratch.name}.${table} WHERE seq = 3`)).rows
    const result = await run(['verify', '--public-key', 'public.pem', '--require-seal', ...at()])
    assert.equal(result.err, '')
    assert.equal(result.code, 0)
    assert.match(result.out, new RegExp(`^OK: 3 records, chain intact\nhead: seq 3, sha256 ${head?.hash}\ncheckpoints: 1, signatures verified; the last covers seq 3 \\(${TS.replace(/\./g, '\\.')}, key [0-9a-f]{16}\\)\nsealed: the last checkpoint covers the last record\n$`))
  })

  it('verifies through the gateway config: the sink, the URL from AIRLOCK_AUDIT_URL and the checkpoint key', async () => {
    const audit = { sink: 'postgres', url: 'postgres://placeholder@127.0.0.1:1/none', schema: scratch.name, table, checkpoint: { keyFile: 'private.pem' } }
    await writeFile(join(dir, 'airlock.json'), JSON.stringify({ issuer: 'https://idp.example.com', policy: ['policies'], audit }))
    const result = await run(['verify', '--config', 'airlock.json'], { AIRLOCK_AUDIT_URL: PG_URL })
    assert.equal(result.code, 0, result.err)
    assert.match(result.out, /^checkpoints: 1, signatures verified;/m)
    const unreachable = await run(['verify', '--config', 'airlock.json'])
    assert.deepEqual(unreachable, { code: 1, out: '', err: `${scratch.name}.${table}: cannot read (ECONNREFUSED)\n` })
  })

  it('tails the table', async () => {
    assert.deepEqual(await run(['tail', ...at(), '-n', '2']), {
      code: 0,
      out: `#2 ${TS} tools.call sub=alice tool=sql_query conn=orders grant=dba decision=allow outcome=ok ms=7 id=abc\n#3 ${TS} gateway.stop\n`,
      err: '',
    })
  })

  it('fails on a cut tail, an edited row and a deleted row, naming the row', async () => {
    const target = async (name: string) => {
      await scratch.admin.query(`CREATE TABLE ${scratch.name}.${name} AS SELECT * FROM ${scratch.name}.${table}`)
      await scratch.admin.query(`CREATE TABLE ${scratch.name}.${name}_checkpoints AS SELECT * FROM ${scratch.name}.${table}_checkpoints`)
      return ['--postgres', PG_URL, '--schema', scratch.name, '--table', name]
    }
    const cut = await target('cut')
    await scratch.admin.query(`DELETE FROM ${scratch.name}.cut WHERE seq = 3`)
    assert.deepEqual(await run(['verify', ...cut]), {
      code: 1,
      out: `${scratch.name}.cut_checkpoints seq 3: cut_tail: the checkpoint of ${TS} covers records up to seq 3, but the log ends at seq 2: record 3 is missing\n`,
      err: '',
    })
    const edited = await target('edited')
    await scratch.admin.query(`UPDATE ${scratch.name}.edited SET line = replace(line, '"dba"', '"admin"') WHERE seq = 2`)
    assert.deepEqual(await run(['verify', ...edited]), { code: 1, out: `${scratch.name}.edited seq 2: edited: the row's hash column does not match its record\n`, err: '' })
    const deleted = await target('deleted')
    await scratch.admin.query(`DELETE FROM ${scratch.name}.deleted WHERE seq = 2`)
    assert.match((await run(['verify', ...deleted])).out, new RegExp(`^${scratch.name}\\.deleted seq 3: seq_gap: `))
  })

  it('exits 1 on an unreachable server or missing tables (never printing the URL), 2 on usage errors', async () => {
    const down = await run(['verify', '--postgres', 'postgres://postgres:s3cret@127.0.0.1:1/test'])
    assert.deepEqual(down, { code: 1, out: '', err: 'public.airlock_audit: cannot read (ECONNREFUSED)\n' })
    const missing = await run(['tail', '--postgres', PG_URL, '--schema', scratch.name, '--table', 'nosuch'])
    assert.equal(missing.code, 1)
    assert.match(missing.err, new RegExp(`^${scratch.name}\\.nosuch: cannot read \\(42P01\\)\n$`))
    const noTables = await run(['verify', '--postgres', PG_URL, '--schema', scratch.name, '--table', 'nosuch'])
    assert.match(noTables.err, /no Airlock audit tables/)
    for (const argv of [
      ['verify', '--schema', 'x', 'a.jsonl'],
      ['verify', '--postgres', PG_URL, 'a.jsonl'],
      ['verify', '--postgres', PG_URL, '--checkpoints', 'x'],
      ['verify', '--postgres', PG_URL, '--table', 'Bad-Name'],
      ['tail', '--postgres', PG_URL, '--config', 'airlock.json'],
      ['tail', 'a.jsonl', 'b.jsonl'],
    ]) {
      const result = await run(argv)
      assert.equal(result.code, 2, argv.join(' '))
      assert.equal(result.out, '')
      assert.doesNotMatch(result.err, /s3cret/)
    }
  })
})
