import type { AuditTrail } from './audit-trail.js'

export interface CheckpointScheduleOptions {
  /** How often the head is signed (when it moved). */
  readonly intervalMs: number
  /** A checkpoint that could not be stored (the records are unaffected): logged, never thrown. */
  readonly onError: (error: unknown) => void
}

/**
 * The trail, checkpointed every `intervalMs` and once more at close, after the last record and
 * before the sink is released: a clean stop leaves the log sealed, a crash leaves at most one
 * interval of records after the last checkpoint.
 */
export function withCheckpoints(trail: AuditTrail, options: CheckpointScheduleOptions): AuditTrail {
  let running: Promise<unknown> = Promise.resolve()
  let busy = false
  const run = (): Promise<unknown> => {
    busy = true
    running = trail.checkpoint().catch(options.onError).finally(() => (busy = false))
    return running
  }
  const timer = setInterval(() => {
    if (!busy) void run()
  }, options.intervalMs)
  timer.unref()
  let closing: Promise<void> | undefined
  return {
    write: (event) => trail.write(event),
    health: () => trail.health(),
    checkpoint: () => trail.checkpoint(),
    close() {
      closing ??= (async () => {
        clearInterval(timer)
        await running
        await run()
        await trail.close()
      })()
      return closing
    },
  }
}
