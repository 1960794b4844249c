import type { Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import { STATE_RETRY_AFTER_SECONDS, type StateHealth, type StateStatus } from './state-health.js'

export interface RedisStateHealthOptions {
  readonly redis: Pick<Redis, 'status' | 'ping'>
  readonly clock: Clock
  /** While down, at most one PING per this interval (each bounded by the client's command timeout). Default 1 s. */
  readonly probeIntervalMs?: number
  /** Called once per change: `false` with the failure that took the store down, `true` when it answers again. */
  readonly onChange: (up: boolean, error?: unknown) => void
}

export interface RedisStateHealth extends StateHealth {
  /** A store operation failed: the store counts as down until a probe succeeds. */
  report(error: unknown): void
}

const DOWN: StateStatus = { ok: false, retryAfterSeconds: STATE_RETRY_AFTER_SECONDS }
const UP: StateStatus = { ok: true }

/**
 * Redis health as the gateway's requests see it. Up: answers from memory (no round trip). Down
 * (after a failed operation, or while the client is not connected): a PING decides, one at a time
 * and at most once per `probeIntervalMs`, so recovery is noticed within about that long of Redis
 * answering again, without a request flood turning into a PING flood.
 */
export function createRedisStateHealth(options: RedisStateHealthOptions): RedisStateHealth {
  const interval = options.probeIntervalMs ?? 1_000
  let up = true
  let lastProbe = Number.NEGATIVE_INFINITY
  let probing: Promise<StateStatus> | undefined

  function markDown(error: unknown): void {
    if (!up) return
    up = false
    options.onChange(false, error)
  }

  async function probe(): Promise<StateStatus> {
    lastProbe = options.clock.now()
    try {
      await options.redis.ping()
    } catch {
      return DOWN
    }
    if (!up) {
      up = true
      options.onChange(true)
    }
    return UP
  }

  return {
    report: markDown,
    async check() {
      if (options.redis.status !== 'ready') {
        markDown(new Error(`the Redis connection is ${options.redis.status}`))
        return DOWN
      }
      if (up) return UP
      if (probing !== undefined) return probing
      if (options.clock.now() - lastProbe < interval) return DOWN
      probing = probe().finally(() => {
        probing = undefined
      })
      return probing
    },
  }
}
