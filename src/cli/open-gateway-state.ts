import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import type { GatewayConfig } from '../config.js'
import { createMemoryState, type GatewayState } from '../state/gateway-state.js'
import { createRedisState } from '../state/redis-state.js'
import type { Logger } from './logger.js'

type RedisStateConfig = Extract<GatewayConfig['state'], { kind: 'redis' }>

/** How long the start waits for a first connection; past it the gateway starts anyway and answers 503 until Redis is up. */
const FIRST_CONNECT_WAIT_MS = 2_000

/**
 * The Redis client of the state store. Fails fast rather than waits: no offline queue (a command
 * sent while disconnected is refused at once), a short command timeout, no resending of commands
 * interrupted by a disconnect; reconnects by itself with a capped back-off.
 */
export function createRedisClient(config: RedisStateConfig): Redis {
  return new Redis(config.url, {
    ...(config.tls ? { tls: {} } : {}),
    enableOfflineQueue: false,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: Math.max(config.commandTimeoutMs, 1_000),
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
  })
}

export interface OpenedState {
  readonly state: GatewayState
  /** Disconnects from Redis (nothing to do in memory). */
  close(): Promise<void>
}

export interface OpenStateOptions {
  readonly config: GatewayConfig['state']
  readonly clock: Clock
  readonly logger: Logger
  /** Limits of the 2025 lane's sessions, kept in the store with Redis. */
  readonly sessions: GatewayConfig['sessions']
  /** Test seam: the Redis client to use instead of one built from the config. */
  readonly redis?: Redis
}

/** The state backend the config names; for Redis, the client is built here (the composition root). */
export async function openGatewayState(options: OpenStateOptions): Promise<OpenedState> {
  const { config, clock, logger } = options
  if (config.kind === 'memory') return { state: createMemoryState(clock), close: async () => undefined }
  const redis = options.redis ?? createRedisClient(config)
  // Subscribed connections take no other commands: the cancel bus gets its own.
  const subscriber = redis.duplicate()
  subscriber.on('error', () => undefined)
  const where = redactedUrl(config.url)
  const state = createRedisState({
    redis,
    keyPrefix: config.keyPrefix,
    clock,
    subscriber,
    sessionLimits: { idleTimeoutMs: options.sessions.idleTimeoutSeconds * 1000, maxPerSubject: options.sessions.maxPerSubject, maxTotal: options.sessions.maxTotal },
    logError: (message, error) => logger.error(message, error),
    onChange(up, error) {
      if (up) logger.info('state store (Redis) answers again; calls are served', { redis: where })
      else logger.error('state store (Redis) unavailable: tool calls are refused with 503 and Retry-After until it answers', error, { redis: where })
    },
  })
  // Without a listener ioredis prints every connection error itself; the health above reports the change.
  redis.on('error', () => undefined)
  if (redis.status !== 'ready') await Promise.race([once(redis, 'ready'), sleep(FIRST_CONNECT_WAIT_MS, undefined, { ref: false })]).catch(() => undefined)
  if (redis.status !== 'ready') logger.warn('state store (Redis) not reachable at start; calls get 503 until it is', { redis: where })
  return {
    state,
    async close() {
      await subscriber.quit().catch(() => subscriber.disconnect())
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}

/** The URL without its password, for logs. */
function redactedUrl(url: string): string {
  const parsed = new URL(url)
  if (parsed.password !== '') parsed.password = '***'
  return parsed.toString()
}
