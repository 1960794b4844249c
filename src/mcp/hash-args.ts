import { hash } from 'node:crypto'
import { canonicalJson } from '../canonical-json.js'

/** SHA-256 (hex) of the canonical JSON of a call's validated arguments: what intent and outcome records carry. */
export function hashArgs(args: unknown): string {
  return hash('sha256', canonicalJson(args), 'hex')
}
