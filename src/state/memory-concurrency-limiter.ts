import { CONCURRENCY_RETRY_MS, type ConcurrencyLimiter } from './call-limiter.js'

/** Calls in flight counted in this process's memory: for a single gateway (a crash forgets them all). */
export function createMemoryConcurrencyLimiter(): ConcurrencyLimiter {
  const inFlight = new Map<string, number>()

  return {
    async acquire(slots) {
      if (slots.some((slot) => (inFlight.get(slot.key) ?? 0) >= slot.limit)) return { ok: false, retryAfterMs: CONCURRENCY_RETRY_MS }
      for (const slot of slots) inFlight.set(slot.key, (inFlight.get(slot.key) ?? 0) + 1)
      let released = false
      return {
        ok: true,
        async release() {
          if (released) return
          released = true
          for (const slot of slots) {
            const count = (inFlight.get(slot.key) ?? 1) - 1
            if (count > 0) inFlight.set(slot.key, count)
            else inFlight.delete(slot.key)
          }
        },
      }
    },
  }
}
