import { hash } from 'node:crypto'

/**
 * The form in which a session id appears in audit records: the first 32 hex characters (128 bits)
 * of its SHA-256. The id itself is a bearer secret and is never written down.
 */
export function hashSessionId(sessionId: string): string {
  if (typeof sessionId !== 'string' || sessionId.length === 0) throw new TypeError('sessionId must be a non-empty string')
  return hash('sha256', sessionId, 'hex').slice(0, 32)
}
