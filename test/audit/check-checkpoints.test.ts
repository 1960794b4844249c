import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { createCheckpointSigner } from '../../src/audit/audit-checkpoint.js'
import { createCheckpointCheck, type CheckpointSource as Source } from '../../src/audit/check-checkpoints.js'
import { createManualClock } from '../../src/clock.js'

const keys = generateKeyPairSync('ed25519')
const signer = createCheckpointSigner({ privateKey: keys.privateKey, clock: createManualClock(Date.UTC(2026, 8, 9)) })
const hash = (seq: number) => seq.toString(16).padStart(64, '0')
const signed = (seq: number): Source => ({ where: `cp ${seq}`, raw: signer.sign({ seq, hash: hash(seq) }) })

/** Runs a check over records firstSeq..lastSeq whose hashes are `hash(seq)`. */
/** `null`: no keys given (signatures unchecked). */
function check(sources: Source[], firstSeq: number, lastSeq: number, publicKeys: typeof keys.publicKey[] | null = [keys.publicKey]) {
  const c = createCheckpointCheck(sources, publicKeys ?? undefined)
  for (let seq = firstSeq; seq <= lastSeq; seq++) c.observe(seq, hash(seq))
  return c.result({ firstSeq, seq: lastSeq })
}

describe('createCheckpointCheck', () => {
  it('proves what the last checkpoint covers, and names the rest', () => {
    assert.deepEqual(check([signed(2), signed(5)], 1, 5), { ok: true, count: 2, signatures: 'verified', last: signed(5).raw, earlier: 0, sealed: true })
    const open = check([signed(2)], 1, 5)
    assert.ok(open.ok && !open.sealed, JSON.stringify(open))
    assert.deepEqual(open.unproven, { from: 3, to: 5 })
    assert.deepEqual(check([], 1, 3), { ok: true, count: 0, signatures: 'verified', earlier: 0, sealed: false, unproven: { from: 1, to: 3 } })
    assert.deepEqual(check([], 1, 0), { ok: true, count: 0, signatures: 'verified', earlier: 0, sealed: false }, 'an empty log has nothing unproven')
    // A log that continues an earlier one: checkpoints of the earlier records are not checked here.
    assert.deepEqual(check([signed(2), signed(6)], 4, 6, null), { ok: true, count: 2, signatures: 'unchecked', last: signed(6).raw, earlier: 1, sealed: true })
  })

  const failures: { name: string; sources: () => Source[]; last: number; reason: string; message?: RegExp }[] = [
    { name: 'a checkpoint past the end', sources: () => [signed(2), signed(5)], last: 3, reason: 'cut_tail', message: /records 4\.\.5 are missing$/ },
    { name: 'a checkpoint of an empty log', sources: () => [signed(1)], last: 0, reason: 'cut_tail', message: /the log has no records: record 1 is missing$/ },
    { name: 'a checkpoint of another record', sources: () => [{ where: 'x', raw: signer.sign({ seq: 2, hash: hash(9) }) }], last: 3, reason: 'checkpoint_mismatch' },
    { name: 'an altered checkpoint', sources: () => [{ where: 'x', raw: { ...signer.sign({ seq: 2, hash: hash(2) }), seq: 3, hash: hash(3) } }], last: 3, reason: 'bad_signature' },
    { name: 'not a checkpoint', sources: () => [{ where: 'x', raw: { seq: 1 } }], last: 3, reason: 'invalid_checkpoint' },
    { name: 'unparsable', sources: () => [{ where: 'x', raw: undefined }], last: 3, reason: 'invalid_checkpoint' },
  ]
  for (const { name, sources, last, reason, message } of failures) {
    it(`fails on ${name}`, () => {
      const result = check(sources(), 1, last)
      assert.ok(!result.ok && result.reason === reason && (message === undefined || message.test(result.message)), JSON.stringify(result))
    })
  }

  it('checks no signature without keys, but still positions and hashes', () => {
    const forged = { where: 'x', raw: { ...signer.sign({ seq: 2, hash: hash(2) }), sig: 'AAAA' } }
    const result = check([forged], 1, 3, null)
    assert.ok(result.ok && result.signatures === 'unchecked', JSON.stringify(result))
    const cut = check([forged], 1, 1, null)
    assert.ok(!cut.ok && cut.reason === 'cut_tail', JSON.stringify(cut))
  })
})
