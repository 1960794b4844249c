import { hash } from 'node:crypto'

/**
 * The key segment of one identity in the state store: `{` + 32 hex characters of SHA-256 over
 * (issuer, subject) + `}`. The braces are a Redis Cluster hash tag, so every key of one subject
 * lives in one slot and a script may touch several of them; the hash keeps raw subjects (and their
 * length) out of key names.
 */
export function identityTag(issuer: string, subject: string): string {
  return `{${hash('sha256', JSON.stringify([issuer, subject]), 'hex').slice(0, 32)}}`
}
