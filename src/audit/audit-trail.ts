import type { SignedCheckpoint } from './audit-checkpoint.js'
import type { AuditSink } from './audit-event.js'

/** Whether a sink can record right now; `reason` is a fixed code, safe to show anywhere (readiness). */
export type AuditHealth = { readonly ok: true } | { readonly ok: false; readonly reason: 'audit_write_failed' | 'audit_closed' }

/**
 * Port: where the gateway's audit records go (a file, a PostgreSQL table). `write` resolves only
 * once the record is durable (fdatasync, COMMIT) and rejects with AuditError when it is not, so
 * callers withhold results. The gateway itself sees only `AuditSink`.
 */
export interface AuditTrail extends AuditSink {
  /** Failed from a write failure until a later write or probe succeeds; `audit_closed` after close. */
  health(): AuditHealth
  /**
   * Signs the chain head and stores the checkpoint beside the records. Resolves undefined when the
   * sink has no signer, the log is empty, or nothing was written since its last checkpoint.
   * Rejects with AuditError AUDIT_WRITE_FAILED when it cannot be stored.
   */
  checkpoint(): Promise<SignedCheckpoint | undefined>
  /** Waits for queued writes, then releases the sink; later writes reject with AUDIT_CLOSED. */
  close(): Promise<void>
}
