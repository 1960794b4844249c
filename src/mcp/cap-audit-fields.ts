import { createHash } from 'node:crypto'
import { capCallerText, MAX_CALLER_NAME } from './cap-caller-text.js'

/** Most bytes of JSON an audit record's `args` (or `detail`) may hold. */
export const MAX_AUDIT_FIELD_BYTES = 8 * 1024

/**
 * Bounds a record field built from caller input (already redacted): top-level keys are capped and
 * cleaned like names, and entries are kept in order while they fit `maxBytes` of JSON; each one
 * that does not becomes a marker with its size and SHA-256 prefix. Pure.
 */
export function capAuditFields(fields: Record<string, unknown>, maxBytes: number = MAX_AUDIT_FIELD_BYTES): Record<string, unknown> {
  const entries = Object.entries(fields)
  const whole = JSON.stringify(fields)
  if (Buffer.byteLength(whole) <= maxBytes && entries.every(([key]) => capCallerText(key, MAX_CALLER_NAME) === key)) return fields
  const capped: Record<string, unknown> = {}
  let budget = maxBytes
  let dropped = 0
  for (const [rawKey, value] of entries) {
    const key = capCallerText(rawKey, MAX_CALLER_NAME)
    const json = JSON.stringify(value) ?? 'null'
    const bytes = Buffer.byteLength(json)
    // Past a few hundred keys, markers alone could exceed the budget: stop and count the rest.
    if (budget < 200) {
      dropped++
      continue
    }
    const kept = bytes + Buffer.byteLength(key) + 4 <= budget ? value : `[omitted: ${bytes} bytes, sha256 ${createHash('sha256').update(json).digest('hex').slice(0, 16)}]`
    capped[key] = kept
    budget -= Buffer.byteLength(JSON.stringify(kept)) + Buffer.byteLength(key) + 4
  }
  if (dropped > 0) capped['[omitted keys]'] = dropped
  return capped
}
