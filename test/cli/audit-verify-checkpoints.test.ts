import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { appendFile, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { hashAuditLine } from '../../src/audit/audit-chain.js'
import { createCheckpointSigner } from '../../src/audit/audit-checkpoint.js'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { auditCommand } from '../../src/cli/audit-command.js'
import type { CliIo } from '../../src/cli/cli-io.js'
import { createManualClock } from '../../src/clock.js'

const clock = createManualClock(Date.UTC(2026, 5, 6, 7, 8, 9))
const keys = generateKeyPairSync('ed25519')
const signer = createCheckpointSigner({ privateKey: keys.privateKey, clock })
const TS = '2026-06-06T07:08:09.000Z'
let dir: string
let lines: string[]

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: dir, env }
  const code = await auditCommand(argv, io)
  return { code, out, err }
}

/** A copy of the signed log (and its checkpoints) under a new name, optionally with its records cut to `keep`. */
async function copy(name: string, keep = lines.length): Promise<string> {
  await writeFile(join(dir, name), lines.slice(0, keep).map((l) => `${l}\n`).join(''))
  await copyFile(join(dir, 'signed.jsonl.checkpoints'), join(dir, `${name}.checkpoints`))
  return name
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-verify-checkpoints-'))
  await writeFile(join(dir, 'public.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }))
  await writeFile(join(dir, 'private.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  await writeFile(join(dir, 'other.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }))
  // Five records and a checkpoint at 3 and at 5, as a gateway with a key leaves them on a clean stop.
  const log = await openAuditLog({ path: join(dir, 'signed.jsonl'), clock, durability: 'write', signer })
  for (let i = 1; i <= 3; i++) await log.write({ type: 'tools.call', correlationId: `c${i}` })
  await log.checkpoint()
  await log.write({ type: 'tools.call', correlationId: 'c4' })
  await log.write({ type: 'gateway.stop' })
  await log.checkpoint()
  await log.close()
  lines = (await readFile(join(dir, 'signed.jsonl'), 'utf8')).trimEnd().split('\n')
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('airlock audit verify with signed checkpoints (file sink)', () => {
  it('prints the head and that the log is sealed; signatures verified with --public-key', async () => {
    const head = hashAuditLine(lines[4] ?? '')
    assert.deepEqual(await run(['verify', '--public-key', 'public.pem', '--require-seal', 'signed.jsonl']), {
      code: 0,
      out:
        'OK: 5 records, chain intact\n' +
        `head: seq 5, sha256 ${head}\n` +
        `checkpoints: 2, signatures verified; the last covers seq 5 (${TS}, key ${JSON.parse((await readFile(join(dir, 'signed.jsonl.checkpoints'), 'utf8')).split('\n')[1] ?? '{}').keyId})\n` +
        'sealed: the last checkpoint covers the last record\n',
      err: '',
    })
    // The private key file works too (its public half is used), and without a key the signatures are said to be unchecked.
    assert.equal((await run(['verify', '--public-key', 'private.pem', 'signed.jsonl'])).code, 0)
    assert.match((await run(['verify', 'signed.jsonl'])).out, /^checkpoints: 2, signatures NOT checked \(no --public-key\);/m)
  })

  it('fails when the last records are deleted: the checkpoint names records that are missing (cut tail)', async () => {
    // Before checkpoints, this passed: the cut log is a valid chain on its own.
    const cut = await copy('cut.jsonl', 3)
    const result = await run(['verify', cut])
    assert.deepEqual(result, {
      code: 1,
      out: `cut.jsonl.checkpoints:2: cut_tail: the checkpoint of ${TS} covers records up to seq 5, but the log ends at seq 3: records 4..5 are missing\n`,
      err: '',
    })
    const one = await run(['verify', '--public-key', 'public.pem', await copy('cut-one.jsonl', 4)])
    assert.match(one.out, /^cut-one\.jsonl\.checkpoints:2: cut_tail: .*: record 5 is missing\n$/)
    assert.equal(one.code, 1)
  })

  it('fails on a forged or altered checkpoint, and on one signed by a key not given', async () => {
    const name = await copy('forged.jsonl', 3)
    const stored = (await readFile(join(dir, `${name}.checkpoints`), 'utf8')).trimEnd().split('\n')
    const first = JSON.parse(stored[0] ?? '{}')
    // Cut the tail AND replace the checkpoint that gave it away by one claiming the shorter head: the signature does not hold.
    await writeFile(join(dir, `${name}.checkpoints`), `${stored[0]}\n${JSON.stringify({ ...first, seq: 3, hash: hashAuditLine(lines[2] ?? ''), ts: '2026-06-06T08:00:00.000Z' })}\n`)
    const forged = await run(['verify', '--public-key', 'public.pem', name])
    assert.equal(forged.code, 1)
    assert.match(forged.out, /^forged\.jsonl\.checkpoints:2: bad_signature: /)
    const unknown = await run(['verify', '--public-key', 'other.pem', 'signed.jsonl'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.out, /^signed\.jsonl\.checkpoints:1: unknown_key: /)
    await writeFile(join(dir, 'junk.jsonl.checkpoints'), 'not json\n')
    await copyFile(join(dir, 'signed.jsonl'), join(dir, 'junk.jsonl'))
    assert.match((await run(['verify', 'junk.jsonl'])).out, /^junk\.jsonl\.checkpoints:1: invalid_checkpoint: /)
  })

  it('fails when records a checkpoint covers were rewritten, even with every hash recomputed', async () => {
    const name = await copy('rewritten.jsonl', 0)
    let prev = '0'.repeat(64)
    const rewritten = lines.map((line) => {
      const record = JSON.parse(line)
      const next = JSON.stringify({ ...record, prev, ...(record.seq === 2 ? { correlationId: 'forged' } : {}) })
      prev = hashAuditLine(next)
      return `${next}\n`
    })
    await writeFile(join(dir, name), rewritten.join(''))
    const result = await run(['verify', name])
    assert.equal(result.code, 1)
    assert.match(result.out, /^rewritten\.jsonl\.checkpoints:1: checkpoint_mismatch: record 3 is not the record the checkpoint of .* signed/)
  })

  it('says plainly when the log ends unsealed (after a crash) and which records are unproven; --require-seal exits 1', async () => {
    const name = await copy('crashed.jsonl')
    // Records written after the last checkpoint, then no clean stop.
    let prev = hashAuditLine(lines[4] ?? '')
    for (const seq of [6, 7]) {
      const line = JSON.stringify({ seq, ts: TS, prev, type: 'tools.call' })
      prev = hashAuditLine(line)
      await appendFile(join(dir, name), `${line}\n`)
    }
    const result = await run(['verify', '--public-key', 'public.pem', name])
    assert.equal(result.code, 0)
    assert.match(result.out, /^head: seq 7, sha256 [0-9a-f]{64}$/m)
    assert.match(result.out, /^warning: the log ends unsealed \(a crash, or records cut after the last checkpoint\): records 6\.\.7 \(2\) come after the last checkpoint and are unproven$/m)
    assert.equal((await run(['verify', '--require-seal', name])).code, 1)
    // A torn checkpoint line (a crash while writing it) is ignored and said so.
    await appendFile(join(dir, `${name}.checkpoints`), '{"seq":7,')
    assert.match((await run(['verify', name])).out, /^note: the last line of crashed\.jsonl\.checkpoints is torn/m)
  })

  it('reads checkpoints from --checkpoints, and exits 1 with one line when the key or the checkpoints cannot be read', async () => {
    await copy('elsewhere.jsonl', 3)
    await rm(join(dir, 'elsewhere.jsonl.checkpoints'))
    assert.match((await run(['verify', 'elsewhere.jsonl'])).out, /^warning: unsealed: no checkpoint covers these records/m)
    const moved = await run(['verify', '--checkpoints', 'signed.jsonl.checkpoints', 'elsewhere.jsonl'])
    assert.equal(moved.code, 1)
    assert.match(moved.out, /^signed\.jsonl\.checkpoints:2: cut_tail: /)
    assert.deepEqual(await run(['verify', '--checkpoints', 'signed.jsonl', '--public-key', 'nope.pem', 'signed.jsonl']), {
      code: 1,
      out: '',
      err: `airlock: nope.pem: cannot read an Ed25519 public key (ENOENT)\n`,
    })
    const dirAsFile = await run(['verify', '--checkpoints', '.', 'signed.jsonl'])
    assert.deepEqual(dirAsFile, { code: 1, out: '', err: '.: cannot read (EISDIR)\n' })
  })
})
