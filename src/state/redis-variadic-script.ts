import type { Redis } from 'ioredis'
import { StateError } from '../errors.js'
import type { RedisScript } from './redis-script.js'

/**
 * Like defineRedisScript, for a script that takes any number of keys (they must share a hash tag
 * on Redis Cluster): registers `lua` under `name` and returns a runner whose failures reject as
 * `StateError('STATE_UNAVAILABLE')` with the cause kept for the log.
 */
export function defineVariadicRedisScript(redis: Redis, name: string, lua: string): RedisScript {
  // Without numberOfKeys, the command takes the key count as its first argument.
  redis.defineCommand(name, { lua })
  // defineCommand adds a method the client's type cannot know of.
  const command = (redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[name]
  if (command === undefined) throw new TypeError(`Redis script ${name} was not registered`)
  return async (keys, args) => {
    try {
      return await command.call(redis, keys.length, ...keys, ...args)
    } catch (error) {
      throw new StateError('STATE_UNAVAILABLE', `Redis script ${name} failed`, { cause: error })
    }
  }
}
