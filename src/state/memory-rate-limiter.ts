import { RATE_WINDOW_MS, type CallRateLimiter } from './call-limiter.js'

/** Takes between two sweeps of idle keys. */
const SWEEP_EVERY = 1024

/** Sliding-window call counts in this process's memory: for a single gateway. */
export function createMemoryRateLimiter(): CallRateLimiter {
  // Admission times per key, oldest first.
  const windows = new Map<string, number[]>()
  let takes = 0

  function recent(key: string, now: number): number[] {
    const times = windows.get(key) ?? []
    while (times.length > 0 && (times[0] ?? 0) <= now - RATE_WINDOW_MS) times.shift()
    return times
  }

  return {
    async take(slots, now) {
      if (++takes % SWEEP_EVERY === 0) {
        for (const [key, times] of windows) if ((times.at(-1) ?? 0) <= now - RATE_WINDOW_MS) windows.delete(key)
      }
      let retryAfterMs = 0
      for (const slot of slots) {
        const times = recent(slot.key, now)
        // Room comes back when the entry that keeps the count at the limit leaves the window.
        if (times.length >= slot.limit) retryAfterMs = Math.max(retryAfterMs, (times[times.length - slot.limit] ?? now) + RATE_WINDOW_MS - now)
      }
      if (retryAfterMs > 0) return { ok: false, retryAfterMs }
      for (const slot of slots) {
        const times = recent(slot.key, now)
        times.push(now)
        windows.set(slot.key, times)
      }
      return { ok: true }
    },
  }
}
