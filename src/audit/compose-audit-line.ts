import type { AuditEvent } from './audit-event.js'

const RESERVED = ['seq', 'ts', 'prev'] as const

/**
 * The event as one compact JSON object, checked to be a plain object that does not set the
 * fields the chain adds. Throws TypeError on misuse (an array, `seq` set by the caller, a BigInt).
 */
export function serializeAuditEvent(event: AuditEvent): string {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new TypeError('audit event must be an object')
  }
  for (const key of RESERVED) {
    if (Object.hasOwn(event, key)) throw new TypeError(`audit event must not set "${key}"`)
  }
  const body = JSON.stringify(event)
  if (!body.startsWith('{')) throw new TypeError('audit event must serialize to a JSON object')
  return body
}

/**
 * `{"seq":…,"ts":…,"prev":…` followed by the serialized event's own fields, in one compact line:
 * the exact bytes every sink stores and the chain hashes.
 */
export function composeAuditLine(seq: number, ts: string, prev: string, body: string): string {
  const header = `{"seq":${seq},"ts":${JSON.stringify(ts)},"prev":"${prev}"`
  return body === '{}' ? `${header}}` : `${header},${body.slice(1)}`
}
