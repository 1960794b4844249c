import { dbErrorCode } from '../audit/audit-database.js'
import { ConfigError } from '../errors.js'

/** Record fields can carry token-supplied text: never pass control characters to a terminal. */
export function sanitize(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

/** A ConfigError's message, a system or SQLSTATE code, or 'error'; never a connection string. */
export function failureText(error: unknown): string {
  return error instanceof ConfigError ? error.message : dbErrorCode(error)
}
