import { UpstreamError } from '../errors.js'
import type { AnyToolDefinition } from '../../tools/define-tool.js'

/** What the agent is told (after the fixed CANCELLED sentence) about a call cut short by shutdown. */
export const SHUTDOWN_CANCEL_DETAIL =
  'The gateway is shutting down and stopped waiting for this call; anything it started may still have taken effect, so check before retrying.'

function shuttingDown(tool: string): UpstreamError {
  return new UpstreamError('CANCELLED', `${tool}: the gateway's drain deadline passed before the call finished`, { publicDetail: SHUTDOWN_CANCEL_DETAIL })
}

/**
 * The tools, each call of which ends with UpstreamError CANCELLED the moment `signal` aborts
 * (the drain deadline), whether or not the tool itself honours its call's signal: a hung AWS
 * request cannot hold a call's reply and audit record past shutdown. Every call is passed to
 * `track` so shutdown waits for it. A call that starts after `signal` aborted never runs.
 */
export function cancelOnShutdown(
  tools: readonly AnyToolDefinition[],
  signal: AbortSignal,
  track: <T>(work: Promise<T>) => Promise<T>,
): AnyToolDefinition[] {
  // One listener on the shared signal for every call in flight: a listener per call would pile up
  // on the signal under concurrency (and set off Node's listener-leak warning past ten).
  const inflight = new Map<object, () => void>()
  signal.addEventListener(
    'abort',
    () => {
      for (const cancel of inflight.values()) cancel()
      inflight.clear()
    },
    { once: true },
  )

  /** Settles with `work`, or rejects with CANCELLED as soon as `signal` aborts, whichever comes first. */
  function untilShutdown<T>(work: Promise<T>, tool: string): Promise<T> {
    const key = {}
    return new Promise<T>((resolve, reject) => {
      inflight.set(key, () => reject(shuttingDown(tool)))
      work.then(resolve, reject).finally(() => inflight.delete(key))
    })
  }

  return tools.map((tool) => ({
    ...tool,
    handler(ctx) {
      if (signal.aborted) return Promise.reject(shuttingDown(tool.name))
      return track(untilShutdown(tool.handler(ctx), tool.name))
    },
  }))
}
