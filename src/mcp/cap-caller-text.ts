import { createHash } from 'node:crypto'

/** Longest tool or connection name kept verbatim in audit records and replies (MCP tool names are at most 128). */
export const MAX_CALLER_NAME = 128
/** Longest caller-derived sentence (deny message, validation issues, tool error) kept in records and replies. */
export const MAX_CALLER_MESSAGE = 512

// Controls, format characters (bidi overrides, zero-width joiners), surrogates and private use:
// written as is they can rewrite what an operator reads in a log line or an agent reads in a reply.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}]/gu

/**
 * A caller-controlled string made safe to record and echo: unsafe characters become U+FFFD, and
 * anything longer than `max` code points keeps its first `max`. An altered string ends in a marker
 * with the original length (UTF-16 units) and the first 16 hex characters of its SHA-256, so
 * records stay bounded (at most about 4·max + 60 bytes of UTF-8) yet still identify the original.
 */
export function capCallerText(value: string, max: number): string {
  if (!Number.isInteger(max) || max < 1) throw new TypeError('max must be a positive integer')
  const clean = value.replace(UNSAFE, '\uFFFD')
  if (clean === value && value.length <= max) return value
  let head = ''
  let count = 0
  for (const char of clean) {
    if (count === max) break
    head += char
    count++
  }
  if (clean === value && head.length === value.length) return value
  const digest = createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16)
  return `${head}…[altered: ${value.length} chars, sha256 ${digest}]`
}
