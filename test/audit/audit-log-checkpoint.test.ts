import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { hashAuditLine } from '../../src/audit/audit-chain.js'
import { checkCheckpointSignature, checkpointKeyId, createCheckpointSigner, signedCheckpointSchema } from '../../src/audit/audit-checkpoint.js'
import { openAuditLog } from '../../src/audit/audit-log.js'
import { checkpointFilePath, readCheckpointFile } from '../../src/audit/checkpoint-file.js'
import { withCheckpoints } from '../../src/audit/with-checkpoints.js'
import { createManualClock } from '../../src/clock.js'
import { ConfigError } from '../../src/errors.js'

const clock = createManualClock(Date.UTC(2026, 4, 5, 6, 7, 8))
const keys = generateKeyPairSync('ed25519')
const signer = createCheckpointSigner({ privateKey: keys.privateKey, clock })
let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-audit-checkpoint-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

const lastLine = async (path: string) => (await readFile(path, 'utf8')).trimEnd().split('\n').at(-1) ?? ''
const checkpoints = async (path: string) => (await readCheckpointFile(checkpointFilePath(path), 'c'))?.sources.map((s) => signedCheckpointSchema.parse(s.raw)) ?? []

describe('checkpoint signatures (Ed25519)', () => {
  it('verify with the signing key, and fail when any signed field changes or another key is given', () => {
    const checkpoint = signer.sign({ seq: 7, hash: 'a'.repeat(64) })
    assert.deepEqual({ ...checkpoint, sig: '' }, { seq: 7, hash: 'a'.repeat(64), ts: '2026-05-05T06:07:08.000Z', keyId: checkpointKeyId(keys.publicKey), sig: '' })
    assert.equal(checkCheckpointSignature(checkpoint, [keys.publicKey]), 'valid')
    for (const altered of [{ seq: 8 }, { hash: 'b'.repeat(64) }, { ts: '2026-05-05T06:07:09.000Z' }]) {
      assert.equal(checkCheckpointSignature({ ...checkpoint, ...altered }, [keys.publicKey]), 'bad_signature', JSON.stringify(altered))
    }
    const other = generateKeyPairSync('ed25519')
    assert.equal(checkCheckpointSignature(checkpoint, [other.publicKey]), 'unknown_key')
    assert.equal(checkCheckpointSignature(checkpoint, [other.publicKey, keys.publicKey]), 'valid', 'several keys during a rotation')
  })

  it('refuses a key that is not an Ed25519 private key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    for (const privateKey of [rsa.privateKey, keys.publicKey]) {
      assert.throws(() => createCheckpointSigner({ privateKey, clock }), (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INVALID')
    }
  })
})

describe('a file log with a signer', () => {
  it('appends a signed checkpoint of the committed head to <path>.checkpoints, only when the head moved', async () => {
    const path = join(dir, 'signed.jsonl')
    const log = await openAuditLog({ path, clock, signer })
    assert.equal(await log.checkpoint(), undefined, 'an empty log has no head to sign')
    await log.write({ type: 'gateway.start' })
    const pending = log.write({ type: 'tools.call', correlationId: 'c1' })
    // Queued records land before the head is signed.
    const first = await log.checkpoint()
    await pending
    assert.deepEqual(first && [first.seq, first.hash], [2, hashAuditLine(await lastLine(path))])
    assert.equal(await log.checkpoint(), undefined, 'nothing new')
    await log.write({ type: 'gateway.stop' })
    await log.checkpoint()
    await log.close()
    assert.deepEqual((await checkpoints(path)).map((c) => c.seq), [2, 3])
    assert.equal((await stat(checkpointFilePath(path))).mode & 0o777, 0o600)
  })

  it('cuts a torn checkpoint line (a crash while writing it) before appending the next', async () => {
    const path = join(dir, 'torn-checkpoint.jsonl')
    const log = await openAuditLog({ path, clock, signer })
    await log.write({ type: 'gateway.start' })
    await log.checkpoint()
    await appendFile(checkpointFilePath(path), '{"seq":2,"hash":"ab')
    assert.equal((await readCheckpointFile(checkpointFilePath(path), 'c'))?.torn, true)
    await log.write({ type: 'gateway.stop' })
    await log.checkpoint()
    await log.close()
    const file = await readCheckpointFile(checkpointFilePath(path), 'c')
    assert.deepEqual([file?.torn, (await checkpoints(path)).map((c) => c.seq)], [false, [1, 2]])
  })

  it('has no checkpoints without a signer', async () => {
    const path = join(dir, 'unsigned.jsonl')
    const log = await openAuditLog({ path, clock })
    await log.write({ type: 'gateway.start' })
    assert.equal(await log.checkpoint(), undefined)
    await log.close()
    assert.equal(await readCheckpointFile(checkpointFilePath(path), 'c'), undefined)
  })
})

describe('withCheckpoints', () => {
  it('checkpoints on its interval and once more at close, after the last record: a clean stop is sealed', async () => {
    const path = join(dir, 'scheduled.jsonl')
    const errors: unknown[] = []
    const trail = withCheckpoints(await openAuditLog({ path, clock, signer }), { intervalMs: 50, onError: (e) => errors.push(e) })
    await trail.write({ type: 'gateway.start' })
    const deadline = performance.now() + 5_000
    while ((await checkpoints(path)).length === 0 && performance.now() < deadline) await sleep(20)
    await trail.write({ type: 'gateway.stop' })
    await trail.close()
    const seqs = (await checkpoints(path)).map((c) => c.seq)
    assert.deepEqual([seqs[0], seqs.at(-1)], [1, 2], `checkpoints ${JSON.stringify(seqs)}`)
    assert.deepEqual(errors, [])
    await assert.rejects(trail.write({ type: 'tools.call' }), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'AUDIT_CLOSED')
  })
})
