import { hash } from 'node:crypto'
import { z } from 'zod'

/**
 * `prev` of the first record of a log: 64 zeros. Every later record's `prev` is
 * {@link hashAuditLine} of the line before it, so editing, removing or reordering any record
 * breaks the chain at the record after it.
 */
export const AUDIT_GENESIS_PREV = '0'.repeat(64)

/** SHA-256 (hex) of one record's exact UTF-8 line bytes, without the trailing `\n`. */
export function hashAuditLine(line: Uint8Array | string): string {
  return hash('sha256', line, 'hex')
}

/** The fields the log adds to every event; the rest of a record is the event itself. */
export const auditRecordHeaderSchema = z.looseObject({
  seq: z.int().positive(),
  ts: z.iso.datetime(),
  prev: z.string().regex(/^[0-9a-f]{64}$/),
})
export type AuditRecordHeader = z.infer<typeof auditRecordHeaderSchema>
