import type { Redis } from 'ioredis'
import { StateError } from '../errors.js'

/** Runs one Lua script atomically on Redis (EVALSHA, loading it on first use). */
export type RedisScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>

/**
 * Registers `lua` on the client under `name` and returns a runner whose failures (connection
 * down, command timeout, script error) reject as `StateError('STATE_UNAVAILABLE')` with the
 * cause kept for the log.
 */
export function defineRedisScript(redis: Redis, name: string, numberOfKeys: number, lua: string): RedisScript {
  redis.defineCommand(name, { numberOfKeys, lua })
  // defineCommand adds a method the client's type cannot know of.
  const command = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[name]
  if (command === undefined) throw new TypeError(`Redis script ${name} was not registered`)
  return async (keys, args) => {
    try {
      return await command.call(redis, ...keys, ...args)
    } catch (error) {
      throw new StateError('STATE_UNAVAILABLE', `Redis script ${name} failed`, { cause: error })
    }
  }
}

/** Runs a plain command, mapping its failure like a script's. */
export async function redisCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new StateError('STATE_UNAVAILABLE', `Redis ${what} failed`, { cause: error })
  }
}
