import type { Clock } from '../clock.js'

/** Occurrences left out of the audit trail for one key, to be recorded as a count. */
export interface SuppressedCount<T> {
  /** What the key stands for (a client address, an identity), as given to the first `admit` of the window. */
  readonly subject: T
  readonly suppressed: number
}

export interface Admission<T> {
  /** Whether this occurrence gets its own record. */
  readonly record: boolean
  /** When it does: occurrences of the same key left out since its last record, to be carried on this one. */
  readonly suppressed: number
  /** Counts of other keys whose window ended (or that had to be forgotten): write them now, or they are lost. */
  readonly due: readonly SuppressedCount<T>[]
}

export interface RecordSampler<T> {
  admit(key: string, subject: T): Admission<T>
  /**
   * Takes every count not yet carried by a record: `'ended'` only those whose window is over (a
   * timer), `'all'` every one (shutdown). Each occurrence is counted exactly once across
   * `admit(...).suppressed`, `admit(...).due` and `drain`.
   */
  drain(scope: 'ended' | 'all'): SuppressedCount<T>[]
}

export interface RecordSamplerOptions {
  readonly clock: Clock
  readonly windowMs: number
  /** Keys remembered at once; past it every key is forgotten (its pending count handed back as due). */
  readonly maxKeys: number
}

interface Entry<T> {
  readonly subject: T
  windowStart: number
  suppressed: number
}

/**
 * Bounds the audit writes one key (client address, identity) can cause: one record per key per
 * window, each carrying how many occurrences it stands for, so a flood cannot fill the disk (and
 * thereby take the audit trail, and with it every tool call, down). Nothing is lost: a count left
 * when the flood stops is handed back by the next `admit` after its window or by `drain`.
 */
export function createRecordSampler<T>(options: RecordSamplerOptions): RecordSampler<T> {
  if (!(options.windowMs > 0) || !(options.maxKeys > 0)) throw new TypeError('windowMs and maxKeys must be positive')
  const entries = new Map<string, Entry<T>>()
  let lastSweep = options.clock.now()

  function take(scope: 'ended' | 'all', now: number): SuppressedCount<T>[] {
    const due: SuppressedCount<T>[] = []
    for (const [key, entry] of entries) {
      const ended = now - entry.windowStart >= options.windowMs
      if (!ended && scope === 'ended') continue
      if (entry.suppressed > 0) due.push({ subject: entry.subject, suppressed: entry.suppressed })
      if (ended) entries.delete(key)
      else entry.suppressed = 0
    }
    return due
  }

  return {
    admit(key, subject) {
      const now = options.clock.now()
      const entry = entries.get(key)
      if (entry !== undefined && now - entry.windowStart < options.windowMs) {
        entry.suppressed++
        return { record: false, suppressed: 0, due: [] }
      }
      const carried = entry?.suppressed ?? 0
      entries.delete(key)
      // Once per window, hand back the counts of keys that went quiet, so no timer is needed for them to land.
      let due: SuppressedCount<T>[] = []
      if (now - lastSweep >= options.windowMs) {
        lastSweep = now
        due = take('ended', now)
      }
      if (entries.size >= options.maxKeys) {
        // Forgetting everyone at the cap only lets through one more record per key; their counts go out now.
        due = [...due, ...take('all', Number.POSITIVE_INFINITY)]
        entries.clear()
      }
      entries.set(key, { subject, windowStart: now, suppressed: 0 })
      return { record: true, suppressed: carried, due }
    },
    drain(scope) {
      return take(scope, options.clock.now())
    },
  }
}
