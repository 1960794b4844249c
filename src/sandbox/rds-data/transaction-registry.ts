import { randomBytes } from 'node:crypto'
import type { Clock } from '../../clock.js'
import { RdsDataError, type BackendTransaction } from './rds-data-types.js'

/** AWS: a transaction with no call for 3 minutes, or older than 24 hours, is rolled back. */
export const TRANSACTION_IDLE_MS = 3 * 60 * 1000
export const TRANSACTION_MAX_MS = 24 * 60 * 60 * 1000

interface Entry {
  readonly tx: BackendTransaction
  readonly resourceArn: string
  readonly secretArn: string
  readonly startedAt: number
  lastUsedAt: number
  /** Calls on one transaction run one after another, as on one connection. */
  tail: Promise<unknown>
}

export interface TransactionRegistry {
  open(tx: BackendTransaction, resourceArn: string, secretArn: string): string
  /**
   * Runs `work` on a live transaction, in call order.
   * @throws RdsDataError TransactionNotFoundException when unknown, expired or bound elsewhere.
   */
  use<T>(id: string, resourceArn: string, secretArn: string, work: (tx: BackendTransaction) => Promise<T>): Promise<T>
  /** Removes the transaction and ends it with `end` (commit or rollback). */
  finish(id: string, resourceArn: string, secretArn: string, end: (tx: BackendTransaction) => Promise<void>): Promise<void>
  /** Rolls back every transaction that has expired; called on each request. */
  sweep(): Promise<void>
  closeAll(): Promise<void>
}

export function createTransactionRegistry(clock: Clock): TransactionRegistry {
  const live = new Map<string, Entry>()

  const expired = (e: Entry, now: number) => now - e.lastUsedAt > TRANSACTION_IDLE_MS || now - e.startedAt > TRANSACTION_MAX_MS

  function expire(id: string, e: Entry): Promise<void> {
    live.delete(id)
    return e.tail.then(() => e.tx.rollback()).catch(() => undefined)
  }

  async function lookup(id: string, resourceArn: string, secretArn: string): Promise<Entry> {
    const e = live.get(id)
    const notFound = new RdsDataError('TransactionNotFoundException', `Transaction ${id} is not found`)
    if (e === undefined) throw notFound
    if (expired(e, clock.now())) {
      await expire(id, e)
      throw notFound
    }
    if (e.resourceArn !== resourceArn || e.secretArn !== secretArn) throw notFound
    return e
  }

  return {
    open(tx, resourceArn, secretArn) {
      const id = randomBytes(96).toString('base64')
      const now = clock.now()
      live.set(id, { tx, resourceArn, secretArn, startedAt: now, lastUsedAt: now, tail: Promise.resolve() })
      return id
    },
    async use(id, resourceArn, secretArn, work) {
      const e = await lookup(id, resourceArn, secretArn)
      e.lastUsedAt = clock.now()
      const run = e.tail.then(() => work(e.tx))
      e.tail = run.catch(() => undefined).then(() => {
        e.lastUsedAt = clock.now()
      })
      return run
    },
    async finish(id, resourceArn, secretArn, end) {
      const e = await lookup(id, resourceArn, secretArn)
      live.delete(id)
      await e.tail
      await end(e.tx)
    },
    async sweep() {
      const now = clock.now()
      await Promise.all([...live].filter(([, e]) => expired(e, now)).map(([id, e]) => expire(id, e)))
    },
    async closeAll() {
      await Promise.all([...live].map(([id, e]) => expire(id, e)))
    },
  }
}
