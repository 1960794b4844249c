import type { Redis } from 'ioredis'
import { z } from 'zod'
import type { CancelBus, CancelNotice } from './cancel-bus.js'
import { redisCall } from './redis-script.js'

export interface RedisCancelBusOptions {
  /** For PUBLISH. */
  readonly redis: Redis
  /** A connection of its own, in subscriber mode from now on. */
  readonly subscriber: Redis
  readonly keyPrefix: string
  readonly logError: (message: string, error: unknown) => void
}

const noticeSchema = z.strictObject({ idHash: z.string().regex(/^[0-9a-f]{32}$/), requestId: z.string().max(256) })

export interface RedisCancelBus extends CancelBus {
  /** Resolves once the subscription is active (notices published before are not seen). */
  readonly ready: Promise<void>
}

/** Cancellations through Redis pub/sub, so the replica running a call hears of it whichever replica was told. */
export function createRedisCancelBus(options: RedisCancelBusOptions): RedisCancelBus {
  const channel = `${options.keyPrefix}cancel`
  const handlers = new Set<(notice: CancelNotice) => void>()
  options.subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return
    let notice: CancelNotice
    try {
      notice = noticeSchema.parse(JSON.parse(message))
    } catch (error) {
      options.logError('ignored a malformed cancellation notice', error)
      return
    }
    for (const handler of handlers) handler(notice)
  })
  const ready = redisCall('SUBSCRIBE', () => options.subscriber.subscribe(channel)).then(() => undefined)
  return {
    ready,
    async publish(notice) {
      await redisCall('PUBLISH', () => options.redis.publish(channel, JSON.stringify(notice)))
    },
    subscribe(handler) {
      handlers.add(handler)
      return () => handlers.delete(handler)
    },
  }
}
