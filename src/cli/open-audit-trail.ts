import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createCheckpointSigner, type CheckpointSigner } from '../audit/audit-checkpoint.js'
import { openAuditLog } from '../audit/audit-log.js'
import type { AuditTrail } from '../audit/audit-trail.js'
import { openPostgresAudit } from '../audit/open-postgres-audit.js'
import { dbErrorCode } from '../audit/audit-database.js'
import { errorCode } from '../audit/open-audit-file.js'
import { withCheckpoints } from '../audit/with-checkpoints.js'
import type { Clock } from '../clock.js'
import type { GatewayConfig } from '../config.js'
import { ConfigError } from '../errors.js'
import { createAuditPool } from './create-audit-pool.js'
import type { Logger } from './logger.js'

export interface OpenAuditTrailOptions {
  readonly audit: GatewayConfig['audit']
  readonly clock: Clock
  readonly logger: Logger
  /** Sink tuning for tests (retry and ping intervals); production uses the defaults. */
  readonly retryIntervalMs?: number
  /** Called after each commit with its record count and duration (the audit commit metric). */
  readonly onCommit?: (records: number, durationMs: number) => void
}

/**
 * Opens the configured audit sink (file, or PostgreSQL through a pool built here), checkpointed
 * when a key is configured. Throws ConfigError CONFIG_INVALID (bad path, key or tables) or
 * AuditError AUDIT_WRITE_FAILED (PostgreSQL unreachable at start).
 */
export async function openAuditTrail(options: OpenAuditTrailOptions): Promise<AuditTrail> {
  const { audit, clock, logger } = options
  const signer = audit.checkpoint === undefined ? undefined : await loadCheckpointSigner(audit.checkpoint.keyFile, clock)
  const retry = {
    ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
    ...(options.onCommit === undefined ? {} : { onCommit: options.onCommit }),
  }
  let trail: AuditTrail
  if (audit.sink === 'file') {
    trail = await openAuditLog({ path: audit.path, clock, durability: audit.durability, ...(signer === undefined ? {} : { signer }), ...retry })
  } else {
    const pool = createAuditPool(audit)
    let sink: AuditTrail
    try {
      sink = await openPostgresAudit({
        pool,
        clock,
        schema: audit.schema,
        table: audit.table,
        ...(signer === undefined ? {} : { signer }),
        ...retry,
        onPoolError: (error) => logger.warn('audit database connection lost', { error: dbErrorCode(error) }),
      })
    } catch (error) {
      await pool.end().catch(() => {})
      throw error
    }
    trail = {
      write: (event) => sink.write(event),
      health: () => sink.health(),
      checkpoint: () => sink.checkpoint(),
      async close() {
        await sink.close()
        await pool.end()
      },
    }
  }
  if (signer === undefined || audit.checkpoint === undefined) return trail
  return withCheckpoints(trail, { intervalMs: audit.checkpoint.intervalSeconds * 1000, onError: (error) => logger.error('audit checkpoint failed', error) })
}

/** The Ed25519 signer of a PKCS#8 PEM key file. Throws ConfigError CONFIG_INVALID naming the file, never its content. */
export async function loadCheckpointSigner(keyFile: string, clock: Clock): Promise<CheckpointSigner> {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(await readFile(keyFile))
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `audit.checkpoint.keyFile ${keyFile}: cannot read a private key (${errorCode(error)})`, { cause: error })
  }
  try {
    return createCheckpointSigner({ privateKey, clock })
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `audit.checkpoint.keyFile ${keyFile}: expected an Ed25519 private key`, { cause: error })
  }
}

/** The public key of a PEM file holding either half of the pair. Throws ConfigError CONFIG_INVALID. */
export async function loadCheckpointPublicKey(file: string, named = file): Promise<KeyObject> {
  try {
    const key = createPublicKey(await readFile(file))
    if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`not an Ed25519 key: ${key.asymmetricKeyType ?? 'unknown'}`)
    return key
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `${named}: cannot read an Ed25519 public key (${errorCode(error)})`, { cause: error })
  }
}
