import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import type { Clock } from '../clock.js'
import { ConfigError } from '../errors.js'

/**
 * A signed statement "the chain's head was record `seq`, whose line hashes to `hash`", made by the
 * gateway at `ts`. As every record's `prev` holds the hash of the one before, it vouches for
 * every record up to `seq`: a log that ends before `seq` lost its tail, and a log whose record
 * `seq` hashes differently was rewritten.
 */
export const signedCheckpointSchema = z.strictObject({
  seq: z.int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  ts: z.iso.datetime(),
  /** {@link checkpointKeyId} of the public key that verifies `sig`. */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ed25519 signature (base64url) over {@link checkpointPayload}. */
  sig: z.base64url(),
})
export type SignedCheckpoint = z.infer<typeof signedCheckpointSchema>

/** The head a checkpoint covers: last record's `seq` and the SHA-256 of its line. */
export interface ChainHead {
  readonly seq: number
  readonly hash: string
}

/** Port: signs a chain head (one-method, so tests and other key stores can stand in). */
export interface CheckpointSigner {
  sign(head: ChainHead): SignedCheckpoint
}

/** The exact bytes signed: a versioned domain string, then seq, hash and time, one per line. */
export function checkpointPayload(checkpoint: Pick<SignedCheckpoint, 'seq' | 'hash' | 'ts'>): Buffer {
  return Buffer.from(`airlock-audit-checkpoint/v1\n${checkpoint.seq}\n${checkpoint.hash}\n${checkpoint.ts}`, 'utf8')
}

/** The first 16 hex digits of the SHA-256 of the key's SubjectPublicKeyInfo (DER); names a key without revealing it. */
export function checkpointKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)
}

export interface CheckpointSignerOptions {
  /** An Ed25519 private key (RFC 8032), e.g. `createPrivateKey(pem)` of a mounted secret. */
  readonly privateKey: KeyObject
  readonly clock: Clock
}

/** Signs chain heads with an Ed25519 key. Throws ConfigError CONFIG_INVALID for any other kind of key. */
export function createCheckpointSigner(options: CheckpointSignerOptions): CheckpointSigner {
  const { privateKey, clock } = options
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError('CONFIG_INVALID', 'audit checkpoint key: expected an Ed25519 private key (PKCS#8 PEM)')
  }
  const keyId = checkpointKeyId(createPublicKey(privateKey))
  return {
    sign(head) {
      const ts = new Date(clock.now()).toISOString()
      const sig = sign(null, checkpointPayload({ ...head, ts }), privateKey).toString('base64url')
      return { seq: head.seq, hash: head.hash, ts, keyId, sig }
    },
  }
}

export type CheckpointSignatureCheck = 'valid' | 'bad_signature' | 'unknown_key'

/**
 * Checks a checkpoint against the public keys an operator trusts (several during a rotation): the
 * key named by `keyId` must be one of them and its signature must verify.
 */
export function checkCheckpointSignature(checkpoint: SignedCheckpoint, publicKeys: readonly KeyObject[]): CheckpointSignatureCheck {
  const key = publicKeys.find((k) => checkpointKeyId(k) === checkpoint.keyId)
  if (key === undefined) return 'unknown_key'
  const ok = verify(null, checkpointPayload(checkpoint), key, Buffer.from(checkpoint.sig, 'base64url'))
  return ok ? 'valid' : 'bad_signature'
}
