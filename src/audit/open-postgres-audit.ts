import { z } from 'zod'
import type { Clock } from '../clock.js'
import { AuditError } from '../errors.js'
import { hashAuditLine, AUDIT_GENESIS_PREV } from './audit-chain.js'
import type { CheckpointSigner, ChainHead, SignedCheckpoint } from './audit-checkpoint.js'
import { dbErrorCode, int8, lastRowsOf, withPooledClient, type AuditDbPool } from './audit-database.js'
import type { AuditEvent } from './audit-event.js'
import type { AuditTrail } from './audit-trail.js'
import { composeAuditLine, serializeAuditEvent } from './compose-audit-line.js'
import { ensurePostgresAuditTables, postgresAuditTables, type PostgresAuditTables } from './postgres-audit-tables.js'

export interface PostgresAuditOptions {
  /** Built by the composition root, with connect, statement and query timeouts. */
  readonly pool: AuditDbPool
  readonly clock: Clock
  /** Default 'public'. */
  readonly schema?: string
  /** Default 'airlock_audit'; checkpoints go to `<table>_checkpoints`. */
  readonly table?: string
  readonly signer?: CheckpointSigner
  /** While failed, how often a write or the timer may try again. Default 1000; 0: every write tries. */
  readonly retryIntervalMs?: number
  /** While healthy, how often an idle sink checks that PostgreSQL answers (readiness). Default 5000; 0: never. */
  readonly pingIntervalMs?: number
  /** Called after each commit with the number of records it made durable (metrics). */
  readonly onCommit?: (records: number, durationMs: number) => void
  /** Errors of idle pooled connections (a restarted server): logged, never thrown. */
  readonly onPoolError?: (error: Error) => void
}

interface Pending {
  readonly body: string
  readonly event: AuditEvent
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

interface Failure {
  readonly error: AuditError
  readonly since: number
  refused: number
  lastAttempt: number
}

const headRow = z.looseObject({ seq: int8, hash: z.string() })
const maxRow = z.looseObject({ seq: int8.nullable() })

/**
 * Opens the PostgreSQL audit sink: one append-only table per deployment, holding ONE hash chain
 * for every replica. Each commit takes a transaction-scoped advisory lock on the chain, reads the
 * head (last row by seq), inserts its records after it and commits with synchronous_commit on:
 * `write` resolves after COMMIT, so a returned result's record is durable in the database. The
 * lock serialises replicas, the primary key on `seq` refuses a fork even without it, and each
 * replica group-commits what it queued meanwhile in one transaction.
 *
 * PostgreSQL unreachable, failing or slower than the pool's timeouts: the batch and later writes
 * reject with AuditError AUDIT_WRITE_FAILED (callers withhold results) and `health()` reports
 * it; a timer retries, and the first commit that lands starts with an `audit.recovered` record.
 * An idle sink pings the server so readiness notices an outage before a call does.
 *
 * Creates the tables when missing (`ensurePostgresAuditTables`). Throws AuditError
 * AUDIT_WRITE_FAILED when PostgreSQL cannot be reached at start, ConfigError CONFIG_INVALID for bad
 * names or tables that are not the sink's.
 */
export async function openPostgresAudit(options: PostgresAuditOptions): Promise<AuditTrail> {
  const { pool, clock } = options
  const tables = postgresAuditTables(options.schema ?? 'public', options.table ?? 'airlock_audit')
  const retryIntervalMs = options.retryIntervalMs ?? 1000
  const pingIntervalMs = options.pingIntervalMs ?? 5000
  const onPoolError = (error: Error): void => options.onPoolError?.(error)
  pool.on('error', onPoolError)
  try {
    await ensurePostgresAuditTables(pool, tables)
  } catch (error) {
    pool.off('error', onPoolError)
    throw error
  }

  let queue: Pending[] = []
  let flushing = false
  let failure: Failure | undefined
  let closed = false
  let retryTimer: NodeJS.Timeout | undefined
  let pinging = false
  const idleWaiters: (() => void)[] = []
  const idle = (): Promise<void> => (flushing ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve())

  const failed = (error: unknown, what: string): AuditError =>
    error instanceof AuditError ? error : new AuditError('AUDIT_WRITE_FAILED', `audit table ${tables.label}: ${what} failed (${dbErrorCode(error)})`, { cause: error })

  async function commitBatch(batch: readonly Pending[]): Promise<void> {
    const now = clock.now()
    const bodies: { body: string; event: AuditEvent }[] = []
    if (failure !== undefined) {
      failure.lastAttempt = now
      const detail = { downMs: now - failure.since, refusedWrites: failure.refused, error: dbErrorCode(failure.error.cause) }
      const event: AuditEvent = { type: 'audit.recovered', detail }
      bodies.push({ body: serializeAuditEvent(event), event })
    }
    bodies.push(...batch)
    if (bodies.length === 0) return
    try {
      await insertRecords(pool, tables, bodies, new Date(now).toISOString())
    } catch (error) {
      fail(failed(error, 'commit'), now, batch.length)
      for (const item of batch) item.reject(failure?.error)
      return
    }
    if (failure !== undefined) recovered()
    options.onCommit?.(batch.length, clock.now() - now)
    for (const item of batch) item.resolve()
  }

  function fail(error: AuditError, now: number, refused: number): void {
    if (failure === undefined) {
      failure = { error, since: now, refused: 0, lastAttempt: now }
      retryTimer = setInterval(() => {
        if (!flushing && !closed) startFlush()
      }, Math.max(retryIntervalMs, 100))
      retryTimer.unref()
    }
    failure.refused += refused
    failure.lastAttempt = now
  }

  function recovered(): void {
    failure = undefined
    clearInterval(retryTimer)
    retryTimer = undefined
  }

  async function flush(): Promise<void> {
    // A probe (failed sink, nothing queued) still runs one commit: its audit.recovered record.
    let probe = failure !== undefined
    while (queue.length > 0 || probe) {
      probe = false
      const batch = queue
      queue = []
      await commitBatch(batch)
      if (failure !== undefined) {
        for (const item of queue) item.reject(failure.error)
        failure.refused += queue.length
        queue = []
        break
      }
    }
    flushing = false
    for (const wake of idleWaiters.splice(0)) wake()
  }

  function startFlush(): void {
    flushing = true
    // Next microtask: writes issued in the same tick share one transaction.
    queueMicrotask(() => void flush())
  }

  const pinger =
    pingIntervalMs > 0
      ? setInterval(() => {
          if (flushing || pinging || closed || failure !== undefined) return
          pinging = true
          pool
            .query('SELECT 1')
            .catch((error: unknown) => {
              if (!closed && failure === undefined) fail(failed(error, 'ping'), clock.now(), 0)
            })
            .finally(() => (pinging = false))
        }, pingIntervalMs)
      : undefined
  pinger?.unref()

  return {
    write(event) {
      if (closed) return Promise.reject(new AuditError('AUDIT_CLOSED', `audit table ${tables.label}: closed`))
      if (failure !== undefined && !flushing && clock.now() - failure.lastAttempt < retryIntervalMs) {
        failure.refused += 1
        return Promise.reject(failure.error)
      }
      let body: string
      try {
        body = serializeAuditEvent(event)
      } catch (error) {
        return Promise.reject(error)
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ body, event, resolve, reject })
        if (!flushing) startFlush()
      })
    },
    health: () => (closed ? { ok: false, reason: 'audit_closed' } : failure !== undefined ? { ok: false, reason: 'audit_write_failed' } : { ok: true }),
    async checkpoint(): Promise<SignedCheckpoint | undefined> {
      if (options.signer === undefined) return undefined
      await idle()
      try {
        return await storeCheckpoint(pool, tables, options.signer)
      } catch (error) {
        throw failed(error, 'checkpoint')
      }
    },
    async close() {
      if (closed) return
      closed = true
      clearInterval(retryTimer)
      clearInterval(pinger)
      await idle()
      pool.off('error', onPoolError)
    },
  }
}

/** BEGIN, durable commit whatever the server's default, the chain's lock, then the head row. */
function lockChain(t: PostgresAuditTables, then: string): string {
  return `BEGIN; SET LOCAL synchronous_commit TO on; SELECT pg_advisory_xact_lock(${t.lockKey}); ${then}`
}

async function insertRecords(pool: AuditDbPool, t: PostgresAuditTables, bodies: readonly { body: string; event: AuditEvent }[], ts: string): Promise<void> {
  await withPooledClient(pool, async (client) => {
    const head = lastRowsOf(await client.query(lockChain(t, `SELECT seq, hash FROM ${t.records} ORDER BY seq DESC LIMIT 1`)), headRow)[0]
    let seq = head?.seq ?? 0
    let prev = head?.hash ?? AUDIT_GENESIS_PREV
    const columns: [string[], string[], string[], (string | null)[], (string | null)[], string[], string[]] = [[], [], [], [], [], [], []]
    for (const { body, event } of bodies) {
      seq += 1
      const line = composeAuditLine(seq, ts, prev, body)
      prev = hashAuditLine(line)
      columns[0].push(String(seq))
      columns[1].push(ts)
      columns[2].push(event.type)
      columns[3].push(event.actor?.sub ?? null)
      columns[4].push(event.correlationId ?? null)
      columns[5].push(prev)
      columns[6].push(line)
    }
    await client.query(
      `INSERT INTO ${t.records} (seq, ts, type, subject, correlation_id, hash, line)
       SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
      columns,
    )
    await client.query('COMMIT')
  })
}

async function storeCheckpoint(pool: AuditDbPool, t: PostgresAuditTables, signer: CheckpointSigner): Promise<SignedCheckpoint | undefined> {
  return withPooledClient(pool, async (client) => {
    const results = await client.query(lockChain(t, `SELECT seq, hash FROM ${t.records} ORDER BY seq DESC LIMIT 1; SELECT max(seq) AS seq FROM ${t.checkpoints}`))
    const all = z.array(z.unknown()).parse(results)
    const head: ChainHead | undefined = lastRowsOf(all.slice(0, -1), headRow)[0]
    const covered = lastRowsOf(all, maxRow)[0]?.seq ?? 0
    if (head === undefined || head.seq <= covered) {
      await client.query('COMMIT')
      return undefined
    }
    const signed = signer.sign(head)
    await client.query(`INSERT INTO ${t.checkpoints} (seq, ts, checkpoint) VALUES ($1, $2, $3)`, [String(signed.seq), signed.ts, JSON.stringify(signed)])
    await client.query('COMMIT')
    return signed
  })
}
