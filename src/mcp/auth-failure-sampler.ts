import type { Clock } from '../clock.js'

export interface AuthFailureSample {
  /** Whether this failure gets its own audit record. */
  readonly record: boolean
  /** Failures from the same client left out since its last record (reported on the next one). */
  readonly suppressed: number
}

export interface AuthFailureSampler {
  admit(client: string): AuthFailureSample
}

/**
 * Bounds audit writes caused by unauthenticated traffic: one record per client address per
 * window, carrying how many failures it stands for, so a flood of bad tokens cannot fill the
 * disk (and thereby take the audit trail, and with it every tool call, down).
 */
export function createAuthFailureSampler(options: { readonly clock: Clock; readonly windowMs: number; readonly maxClients: number }): AuthFailureSampler {
  const clients = new Map<string, { windowStart: number; suppressed: number }>()
  return {
    admit(client) {
      const now = options.clock.now()
      const entry = clients.get(client)
      if (entry !== undefined && now - entry.windowStart < options.windowMs) {
        entry.suppressed++
        return { record: false, suppressed: entry.suppressed }
      }
      // Forgetting everyone at the cap only lets through one more record per client.
      if (entry === undefined && clients.size >= options.maxClients) clients.clear()
      clients.set(client, { windowStart: now, suppressed: 0 })
      return { record: true, suppressed: entry?.suppressed ?? 0 }
    },
  }
}
