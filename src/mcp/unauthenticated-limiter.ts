import { isIP } from 'node:net'
import type { Clock } from '../clock.js'

export interface UnauthenticatedLimiterOptions {
  readonly clock: Clock
  /** Failed or absent authentications an address may make in a row before it is refused. */
  readonly burst: number
  /** How many of those it regains per minute. */
  readonly perMinute: number
  /** Addresses tracked at once; the least recently failing one is forgotten beyond this. */
  readonly maxAddresses: number
}

/**
 * Per client address, a token bucket of failed authentications, kept in this replica's memory:
 * asking it costs no network round trip and still works when a shared store is down, which is
 * the point of refusing before any token is parsed.
 */
export interface UnauthenticatedLimiter {
  /** Whether `address` must be refused now, and for how long (whole seconds, at least 1). */
  refusal(address: string): { readonly retryAfterSeconds: number } | undefined
  /** Counts one failed or absent authentication; true when it used the address's last allowance. */
  failed(address: string): boolean
  /** Forgets addresses whose allowance is whole again (call on a timer). */
  sweep(): void
  readonly tracked: number
}

interface Bucket {
  tokens: number
  updatedAt: number
}

/** The first 64 bits of an IPv6 address (`2001:db8:1:2::/64`): one host gets a whole /64. */
function ipv6Prefix(address: string): string {
  const bare = address.split('%')[0] ?? address
  const [head = '', tail] = bare.split('::')
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const full = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${full.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`
}

/** The key an address is counted under: IPv4 as is, IPv6 by its /64. */
export function limiterKey(address: string): string {
  return isIP(address) === 6 ? ipv6Prefix(address) : address
}

/** Throws TypeError for a non-positive burst, rate or table size. */
export function createUnauthenticatedLimiter(options: UnauthenticatedLimiterOptions): UnauthenticatedLimiter {
  const { clock, burst, maxAddresses } = options
  if (!(burst >= 1) || !(options.perMinute > 0) || !(maxAddresses >= 1)) throw new TypeError('burst, perMinute and maxAddresses must be positive')
  const perMs = options.perMinute / 60_000
  // Map order is recency: a bucket is re-inserted whenever it is charged.
  const buckets = new Map<string, Bucket>()

  function refilled(bucket: Bucket, now: number): number {
    return Math.min(burst, bucket.tokens + Math.max(0, now - bucket.updatedAt) * perMs)
  }

  return {
    refusal(address) {
      const bucket = buckets.get(limiterKey(address))
      if (bucket === undefined) return undefined
      const tokens = refilled(bucket, clock.now())
      if (tokens >= 1) return undefined
      return { retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) }
    },
    failed(address) {
      const key = limiterKey(address)
      const now = clock.now()
      const bucket = buckets.get(key)
      const tokens = (bucket === undefined ? burst : refilled(bucket, now)) - 1
      buckets.delete(key)
      buckets.set(key, { tokens, updatedAt: now })
      if (buckets.size > maxAddresses) {
        const oldest = buckets.keys().next().value
        if (oldest !== undefined) buckets.delete(oldest)
      }
      // Exactly once per episode, even when concurrent failures overdraw the bucket.
      return tokens < 1 && tokens >= 0
    },
    sweep() {
      const now = clock.now()
      for (const [key, bucket] of buckets) if (refilled(bucket, now) >= burst) buckets.delete(key)
    },
    get tracked() {
      return buckets.size
    },
  }
}
