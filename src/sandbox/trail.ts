import type { Clock } from '../clock.js'

/** One AWS API call as an emulator saw it: the sandbox's CloudTrail. */
export interface TrailEntry {
  readonly at: string
  readonly service: string
  readonly action: string
  readonly region: string
  readonly accessKeyId: string
  readonly principalArn: string
  readonly sourceIdentity?: string
  /** Outcome: 'ok' or the error type returned. */
  readonly outcome: string
  readonly detail?: Record<string, unknown>
}

export interface Trail {
  record(entry: Omit<TrailEntry, 'at'>): void
  entries(): readonly TrailEntry[]
  /** Called for every new entry (e.g. to append to a file for `airlock sandbox trail`). */
  subscribe(listener: (entry: TrailEntry) => void): () => void
}

export function createTrail(clock: Clock): Trail {
  const all: TrailEntry[] = []
  const listeners = new Set<(entry: TrailEntry) => void>()
  return {
    record(entry) {
      const full: TrailEntry = { at: new Date(clock.now()).toISOString(), ...entry }
      all.push(full)
      for (const listener of listeners) listener(full)
    },
    entries: () => all,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
