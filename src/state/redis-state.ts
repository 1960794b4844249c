import type { Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import { StateError } from '../errors.js'
import type { GatewayState } from './gateway-state.js'
import { createRedisActivationStore } from './redis-activation-store.js'
import { createRedisApprovalStore } from './redis-approval-store.js'
import { createRedisCancelBus } from './redis-cancel-bus.js'
import { createRedisConcurrencyLimiter } from './redis-concurrency-limiter.js'
import { createRedisRateLimiter } from './redis-rate-limiter.js'
import { createRedisSessionStore } from './redis-session-store.js'
import type { SessionLimits } from './session-store.js'
import { createRedisStateHealth } from './redis-state-health.js'

export interface RedisStateOptions {
  /** Built in src/cli with a short command timeout and no offline queue, so no command waits for long. */
  readonly redis: Redis
  readonly keyPrefix: string
  readonly clock: Clock
  /** Store up (`true`) or down (with the failure); called once per change. */
  readonly onChange: (up: boolean, error?: unknown) => void
  readonly logError: (message: string, error: unknown) => void
  /** A second connection, for the cancel bus's subscription (a subscribed connection takes no other commands). */
  readonly subscriber: Redis
  /** Limits of the 2025 lane's sessions (config `sessions`). */
  readonly sessionLimits: SessionLimits
  readonly leaseMs?: number
  readonly probeIntervalMs?: number
}

/** Every failure of `call` also takes the store's health down, so the next requests get 503 without trying. */
function observed<A extends unknown[], R>(call: (...args: A) => Promise<R>, report: (error: unknown) => void): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await call(...args)
    } catch (error) {
      if (error instanceof StateError) report(error)
      throw error
    }
  }
}

/** The replicated backend: activations, approval requests, rate limits and concurrency leases in one Redis. */
export function createRedisState(options: RedisStateOptions): GatewayState {
  const { redis, keyPrefix, clock } = options
  const health = createRedisStateHealth({ redis, clock, onChange: options.onChange, ...(options.probeIntervalMs === undefined ? {} : { probeIntervalMs: options.probeIntervalMs }) })
  const activations = createRedisActivationStore({ redis, keyPrefix })
  const rates = createRedisRateLimiter({ redis, keyPrefix })
  const approvals = createRedisApprovalStore({ redis, keyPrefix })
  const concurrency = createRedisConcurrencyLimiter({ redis, keyPrefix, clock, onError: options.logError, ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }) })
  const sessions = createRedisSessionStore({ ...options.sessionLimits, redis, keyPrefix })
  const cancelBus = createRedisCancelBus({ redis, subscriber: options.subscriber, keyPrefix, logError: options.logError })
  cancelBus.ready.catch((error: unknown) => options.logError('cancellation channel not subscribed; cancellations reach only the replica told', error))
  return {
    activations: { activate: observed(activations.activate, health.report), markRecorded: observed(activations.markRecorded, health.report), find: observed(activations.find, health.report) },
    approvals: {
      open: observed(approvals.open, health.report),
      decide: observed(approvals.decide, health.report),
      consume: observed(approvals.consume, health.report),
      get: observed(approvals.get, health.report),
      pending: observed(approvals.pending, health.report),
    },
    rates: { take: observed(rates.take, health.report) },
    concurrency: { acquire: observed(concurrency.acquire, health.report) },
    health,
    sessions: {
      open: observed(sessions.open, health.report),
      touch: observed(sessions.touch, health.report),
      end: observed(sessions.end, health.report),
      sweep: observed(sessions.sweep, health.report),
      count: observed(sessions.count, health.report),
    },
    cancelBus: { publish: observed(cancelBus.publish, health.report), subscribe: cancelBus.subscribe },
  }
}
