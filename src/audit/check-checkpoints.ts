import type { KeyObject } from 'node:crypto'
import { checkCheckpointSignature, signedCheckpointSchema, type SignedCheckpoint } from './audit-checkpoint.js'

/** One stored checkpoint, as read (not yet parsed), and where it was found (`file:line`, `table id 7`). */
export interface CheckpointSource {
  readonly where: string
  readonly raw: unknown
}

export type CheckpointFailureReason =
  /** Not a signed checkpoint at all. */
  | 'invalid_checkpoint'
  /** Signed by a trusted key, but the signature does not verify: forged or altered. */
  | 'bad_signature'
  /** Signed by a key that is not among those given to verify with. */
  | 'unknown_key'
  /** The checkpoint covers records the log no longer has: its tail was cut. */
  | 'cut_tail'
  /** The record at the checkpoint's seq is not the one that was signed: history was rewritten. */
  | 'checkpoint_mismatch'

export type CheckpointReport =
  | {
      readonly ok: true
      readonly count: number
      /** 'unchecked' when no public key was given: cut tails are still found, forged checkpoints are not. */
      readonly signatures: 'verified' | 'unchecked'
      /** The checkpoint that covers the most records, if any covers this log's records. */
      readonly last?: SignedCheckpoint
      /** Checkpoints of records before the first one here (an earlier file, or removed by retention). */
      readonly earlier: number
      /** True when the last checkpoint covers the last record (a clean stop). */
      readonly sealed: boolean
      /** Records after the last checkpoint: nothing proves they are all there. */
      readonly unproven?: { readonly from: number; readonly to: number }
    }
  | { readonly ok: false; readonly where: string; readonly reason: CheckpointFailureReason; readonly message: string }

/** Where the verified chain starts and ends. */
export interface ChainSpan {
  /** `seq` of the first record present (1 unless the log continues an earlier file or was pruned). */
  readonly firstSeq: number
  /** `seq` of the last record, 0 for an empty log. */
  readonly seq: number
}

/** Compares checkpoints with the records of a chain while it is verified. */
export interface CheckpointCheck {
  /** Every record's `seq` and line hash, in order, as the chain verifier accepts them. */
  observe(seq: number, hash: string): void
  /** Once the chain verified intact: the first checkpoint it contradicts, or what they prove. */
  result(span: ChainSpan): CheckpointReport
}

/**
 * Checks signed checkpoints against a chain: signatures (when `publicKeys` is given), that every
 * record a checkpoint covers is present (a cut tail fails), and that the record at its `seq`
 * still hashes to the signed value (a rewrite fails). Reports whether the log ends sealed and
 * which records come after the last checkpoint.
 */
export function createCheckpointCheck(sources: readonly CheckpointSource[], publicKeys: readonly KeyObject[] | undefined): CheckpointCheck {
  const checkpoints: { where: string; checkpoint: SignedCheckpoint }[] = []
  let early: Extract<CheckpointReport, { ok: false }> | undefined
  for (const { where, raw } of sources) {
    const parsed = signedCheckpointSchema.safeParse(raw)
    if (!parsed.success) {
      early ??= { ok: false, where, reason: 'invalid_checkpoint', message: 'not a signed checkpoint (seq, hash, ts, keyId, sig)' }
      continue
    }
    const checkpoint = parsed.data
    if (publicKeys !== undefined) {
      const signature = checkCheckpointSignature(checkpoint, publicKeys)
      if (signature === 'unknown_key') {
        early ??= { ok: false, where, reason: 'unknown_key', message: `checkpoint of ${checkpoint.ts} is signed by key ${checkpoint.keyId}, which is not among the keys given` }
      } else if (signature === 'bad_signature') {
        early ??= { ok: false, where, reason: 'bad_signature', message: `checkpoint of ${checkpoint.ts} (seq ${checkpoint.seq}) does not verify with key ${checkpoint.keyId}: forged or altered` }
      }
    }
    checkpoints.push({ where, checkpoint })
  }
  const wanted = new Set(checkpoints.map((c) => c.checkpoint.seq))
  const hashes = new Map<number, string>()

  return {
    observe(seq, hash) {
      if (wanted.has(seq)) hashes.set(seq, hash)
    },
    result(span) {
      if (early !== undefined) return early
      let last: SignedCheckpoint | undefined
      let earlier = 0
      for (const { where, checkpoint } of checkpoints) {
        const { seq, ts } = checkpoint
        if (seq < span.firstSeq) {
          earlier += 1
          continue
        }
        if (seq > span.seq) {
          const missing = span.seq + 1 === seq ? `record ${seq} is missing` : `records ${span.seq + 1}..${seq} are missing`
          const ends = span.seq === 0 ? 'the log has no records' : `the log ends at seq ${span.seq}`
          return { ok: false, where, reason: 'cut_tail', message: `the checkpoint of ${ts} covers records up to seq ${seq}, but ${ends}: ${missing}` }
        }
        if (hashes.get(seq) !== checkpoint.hash) {
          return { ok: false, where, reason: 'checkpoint_mismatch', message: `record ${seq} is not the record the checkpoint of ${ts} signed: records up to it were replaced` }
        }
        if (last === undefined || seq > last.seq) last = checkpoint
      }
      const provenTo = last?.seq ?? span.firstSeq - 1
      const sealed = last !== undefined && last.seq === span.seq
      return {
        ok: true,
        count: checkpoints.length,
        signatures: publicKeys === undefined ? 'unchecked' : 'verified',
        ...(last === undefined ? {} : { last }),
        earlier,
        sealed,
        ...(span.seq > provenTo ? { unproven: { from: provenTo + 1, to: span.seq } } : {}),
      }
    },
  }
}
