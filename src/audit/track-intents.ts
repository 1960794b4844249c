import { z } from 'zod'

/** A `tools.intent` record with no `tools.call` outcome for its correlation id (yet). */
export interface OpenIntent {
  readonly correlationId: string
  readonly seq: number
  readonly ts: string
  readonly tool?: string
  readonly sub?: string
}

/** Pairs intents with outcomes while records stream by; only unpaired intents are held. */
export interface IntentTracker {
  push(record: unknown): void
  /** Intents still without an outcome, oldest first. */
  open(): OpenIntent[]
}

const recordView = z.looseObject({
  seq: z.number(),
  ts: z.string(),
  type: z.string(),
  correlationId: z.string().optional(),
  tool: z.string().optional(),
  actor: z.looseObject({ sub: z.string().optional() }).optional(),
})

/**
 * Tracks `tools.intent` records (written before a call reaches AWS) until the `tools.call`
 * outcome with the same `correlationId` arrives. An outcome without an intent is fine (older
 * logs, and calls that never reach AWS); an intent without an outcome means the process stopped
 * or crashed mid-call: the action may have run without its result being recorded.
 */
export function createIntentTracker(): IntentTracker {
  const pending = new Map<string, OpenIntent>()
  return {
    push(record) {
      const parsed = recordView.safeParse(record)
      if (!parsed.success) return
      const { type, correlationId, seq, ts, tool } = parsed.data
      if (correlationId === undefined) return
      if (type === 'tools.intent') {
        const sub = parsed.data.actor?.sub
        pending.set(correlationId, { correlationId, seq, ts, ...(tool === undefined ? {} : { tool }), ...(sub === undefined ? {} : { sub }) })
      } else if (type === 'tools.call') {
        pending.delete(correlationId)
      }
    },
    open: () => [...pending.values()].sort((a, b) => a.seq - b.seq),
  }
}
