import { randomFillSync } from 'node:crypto'

const POOL_BYTES = 4096
let pool = Buffer.alloc(0)
let offset = 0

/**
 * `bytes` random bytes from the system CSPRNG, as hex, for identifiers made on every request
 * (correlation ids, lease ids). They come from a pool refilled 4 KiB at a time, as Node does for
 * `randomUUID`: a `randomBytes` call per id costs the event loop 2–20 µs, a slice of the pool a
 * tenth of a microsecond. Each byte is handed out once. Not for secrets (session ids, keys): those
 * take their own `randomBytes` and never sit in a pool.
 */
export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 64) throw new TypeError(`randomHex: bytes must be an integer from 1 to 64, got ${bytes}`)
  if (offset + bytes > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES))
    offset = 0
  }
  const hex = pool.toString('hex', offset, offset + bytes)
  offset += bytes
  return hex
}
