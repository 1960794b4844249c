import type { Clock } from '../clock.js'

/**
 * What identifies a cached value: a tuple of parts in a fixed order. It is compared as its JSON
 * text, so parts never run into each other (`["a:b","c"]` is not `["a","b:c"]`) and `undefined`
 * (the gateway's own identity) is a value of its own, never equal to any string.
 */
export type CacheKey = readonly (string | undefined)[]

export interface BoundedCacheOptions<V> {
  /** Most entries kept; adding one more drops the least recently used. */
  readonly maxEntries: number
  /** Required with `idleMs` or `expiresAt`; a cache bounded by size alone does not look at the time. */
  readonly clock?: Clock
  /** Drops an entry that has not been read or written for this long. */
  readonly idleMs?: number
  /** Drops an entry from this moment (epoch ms) on, e.g. when the credentials in it expire. */
  readonly expiresAt?: (value: V) => number
  /** Called for every value that leaves the cache (evicted, expired, replaced or deleted), e.g. to close it. */
  readonly onEvict?: (value: V) => void
}

export interface BoundedCache<V> {
  /** The live value for `key`, which becomes the most recently used; undefined when absent or expired. */
  get(key: CacheKey): V | undefined
  set(key: CacheKey, value: V): void
  /** The live value for `key`, or the one `create` builds (and the cache keeps). */
  getOrCreate(key: CacheKey, create: () => V): V
  delete(key: CacheKey): boolean
  /** Entries held, expired ones included until the cache next notices them. */
  readonly size: number
}

interface Entry<V> {
  readonly value: V
  usedAt: number
}

/** The one key scheme of the gateway's identity-keyed caches, as text (for a plain Map of work in flight). */
export function cacheKeyText(key: CacheKey): string {
  return JSON.stringify(key.map((part) => (part === undefined ? null : part)))
}

/**
 * A least-recently-used cache with a bound on its size, and optionally an idle time and a
 * per-value expiry, for state kept per caller identity (AWS clients, role sessions, Kubernetes
 * clients): without a bound such a cache grows with every identity that ever called.
 * Throws `TypeError` for a bound that is not a positive integer.
 */
export function createBoundedCache<V>(options: BoundedCacheOptions<V>): BoundedCache<V> {
  if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new TypeError('maxEntries must be a positive integer')
  if (options.idleMs !== undefined && !(options.idleMs > 0)) throw new TypeError('idleMs must be > 0')
  if ((options.idleMs !== undefined || options.expiresAt !== undefined) && options.clock === undefined) {
    throw new TypeError('a cache with idleMs or expiresAt needs a clock')
  }
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, Entry<V>>()
  const { idleMs, expiresAt, onEvict } = options
  const now = (): number => options.clock?.now() ?? 0

  function isLive(entry: Entry<V>, now: number): boolean {
    if (idleMs !== undefined && now - entry.usedAt >= idleMs) return false
    return expiresAt === undefined || now < expiresAt(entry.value)
  }

  function remove(text: string, entry: Entry<V>): void {
    entries.delete(text)
    onEvict?.(entry.value)
  }

  function pruneExpired(now: number): void {
    for (const [text, entry] of entries) {
      if (isLive(entry, now)) {
        // Idle times grow toward the front; with no per-value expiry the rest are younger.
        if (expiresAt === undefined) return
        continue
      }
      remove(text, entry)
    }
  }

  function get(key: CacheKey): V | undefined {
    const text = cacheKeyText(key)
    const entry = entries.get(text)
    if (entry === undefined) return undefined
    const at = now()
    if (!isLive(entry, at)) {
      remove(text, entry)
      return undefined
    }
    entries.delete(text)
    entry.usedAt = at
    entries.set(text, entry)
    return entry.value
  }

  function set(key: CacheKey, value: V): void {
    const text = cacheKeyText(key)
    const at = now()
    const previous = entries.get(text)
    if (previous !== undefined) {
      entries.delete(text)
      if (previous.value !== value) onEvict?.(previous.value)
    }
    pruneExpired(at)
    for (const [oldest, entry] of entries) {
      if (entries.size < options.maxEntries) break
      remove(oldest, entry)
    }
    entries.set(text, { value, usedAt: at })
  }

  return {
    get,
    set,
    getOrCreate(key, create) {
      const hit = get(key)
      if (hit !== undefined) return hit
      const value = create()
      set(key, value)
      return value
    },
    delete(key) {
      const text = cacheKeyText(key)
      const entry = entries.get(text)
      if (entry === undefined) return false
      remove(text, entry)
      return true
    },
    get size() {
      return entries.size
    },
  }
}
