/**
 * The machine's Redis for one test file: one connection, a fresh key prefix per store under test
 * (`airlock-test:<random>:`), and every key under those prefixes removed when the file is done.
 *
 *   const { redis, redisPrefix } = useTestRedis()
 *   createRedisActivationStore({ redis, keyPrefix: redisPrefix() })
 */
import { randomBytes } from 'node:crypto'
import { after } from 'node:test'
import { Redis } from 'ioredis'

export interface TestRedis {
  readonly redis: Redis
  /** A prefix no other test uses; its keys are deleted after the file. */
  redisPrefix(): string
}

export function useTestRedis(): TestRedis {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 })
  const prefixes: string[] = []
  after(async () => {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
    }
    redis.disconnect()
  })
  return {
    redis,
    redisPrefix() {
      const prefix = `airlock-test:${randomBytes(6).toString('hex')}:`
      prefixes.push(prefix)
      return prefix
    },
  }
}
