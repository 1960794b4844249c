import { lstatSync, writeSync, type Stats } from 'node:fs'
import type { Clock } from '../clock.js'
import { AuditError } from '../errors.js'
import { hashAuditLine } from './audit-chain.js'
import type { CheckpointSigner, SignedCheckpoint } from './audit-checkpoint.js'
import type { AuditEvent } from './audit-event.js'
import type { AuditTrail } from './audit-trail.js'
import { appendCheckpointLine, checkpointFilePath } from './checkpoint-file.js'
import { errorCode, openAuditFile, type AuditFile } from './open-audit-file.js'
import { resumeAuditFile } from './resume-audit-file.js'
import { composeAuditLine, serializeAuditEvent } from './compose-audit-line.js'

export interface AuditLogOptions {
  readonly path: string
  readonly clock: Clock
  /**
   * 'fsync' (default): resolve after fdatasync, so a record survives a crash of the machine.
   * 'write': resolve once the record is in the kernel, which survives a crash of this process.
   */
  readonly durability?: 'write' | 'fsync'
  /**
   * Called after each group commit with the number of records it made durable and how long the
   * commit took on the clock, write and flush included (metrics).
   */
  readonly onCommit?: (records: number, durationMs: number) => void
  /**
   * While failed, a write probes the file (and may succeed) only if this long has passed on the
   * clock since the last attempt, and a timer probes this often. Default 1000; 0: every write probes.
   */
  readonly retryIntervalMs?: number
  /** Signs checkpoints of the head, appended to `<path>.checkpoints` (`checkpointFilePath`); none without. */
  readonly signer?: CheckpointSigner
}

export interface AuditLog extends AuditTrail {
  /** Hash of the last record written (the value the next record's `prev` will hold). */
  head(): string
}

interface Pending {
  readonly body: string
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

interface Failure {
  readonly error: AuditError
  readonly since: number
  refused: number
  lastAttempt: number
}

/**
 * Opens (or creates, mode 0600) an append-only, hash-chained JSON Lines audit log. Each line is
 * `{ seq, ts, prev, ...event }`; see `AUDIT_GENESIS_PREV` for the chain. Concurrent writes are
 * group-committed: everything queued while one write is in flight goes out in the next single
 * write (and fdatasync).
 *
 * Faults, each leaving a record so the chain stays verifiable end to end:
 * - An existing file resumes its chain from its last complete line. A torn final line is saved
 *   aside (`resumeAuditFile`), cut off, and an `audit.repaired` record written first.
 * - After an I/O failure the log fails closed: the failed batch and every later write reject with
 *   AUDIT_WRITE_FAILED, except probes (see `retryIntervalMs`). Before any write after a failure
 *   the file is truncated back to the end of the last committed record, so a torn partial line
 *   never stays in the middle of the chain; the first successful commit starts with an
 *   `audit.recovered` record (`downMs`, `refusedWrites`, `error`).
 * - Every commit checks (lstat) that the path still names the open file. When the file was
 *   deleted, moved or replaced by an empty file, the log continues in a new file at the path,
 *   whose first record `audit.reopened` continues the chain: its `seq` and `prev` follow the old
 *   file's last record, so the files verify together (`verifyAuditFiles`). A non-empty or
 *   non-regular file at the path is not this log's: writes fail closed until it is gone.
 *
 * With a `signer`, `checkpoint()` signs the committed head and appends it to `<path>.checkpoints`
 * (schedule it with `withCheckpoints`), so that `airlock audit verify` can tell a cut tail.
 *
 * Throws ConfigError CONFIG_INVALID when the path is not a regular file or cannot be opened, or
 * when the last complete line is not a valid record (damage, not a crash: an operator must
 * inspect with `airlock audit verify`). One writer (one AuditLog in one process) per path.
 */
export async function openAuditLog(options: AuditLogOptions): Promise<AuditLog> {
  const { path, clock } = options
  const durability = options.durability ?? 'fsync'
  const retryIntervalMs = options.retryIntervalMs ?? 1000
  let file = await openAuditFile(path)
  let resume
  try {
    resume = await resumeAuditFile(file, path, clock)
  } catch (error) {
    await file.handle.close().catch(() => {})
    throw error
  }

  let seq = resume.seq
  let prev = resume.prev
  let committed = resume.committed
  // Set when the file may hold bytes past `committed` (torn tail, failed write): cut before writing.
  let dirty = resume.torn !== undefined
  // Records of the log's own incidents, written before anything else and kept until they are.
  let notes: string[] = resume.torn === undefined ? [] : [serializeAuditEvent({ type: 'audit.repaired', detail: { ...resume.torn } })]
  let queue: Pending[] = []
  let flushing = false
  let failure: Failure | undefined
  let closed = false
  // Resolved whenever a flush ends (close and checkpoints wait for queued records to land).
  const idleWaiters: (() => void)[] = []
  const idle = (): Promise<void> => (flushing ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve())
  let checkpointed = 0
  let retryTimer: NodeJS.Timeout | undefined

  async function followPath(): Promise<void> {
    let now: Stats | undefined
    try {
      now = lstatSync(path)
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error
    }
    if (now !== undefined && now.ino === file.ino && now.dev === file.dev) return
    const old = await file.handle.stat()
    const reason = now !== undefined ? 'replaced' : old.nlink === 0 ? 'deleted' : 'moved'
    let next: AuditFile
    try {
      next = await openAuditFile(path)
    } catch (error) {
      throw new AuditError('AUDIT_WRITE_FAILED', `audit log ${path}: file ${reason} and cannot be reopened`, { cause: error })
    }
    if (next.size !== 0) {
      await next.handle.close().catch(() => {})
      throw new AuditError('AUDIT_WRITE_FAILED', `audit log ${path}: file ${reason} by a non-empty file that is not this log's`)
    }
    await file.handle.close().catch(() => {})
    file = next
    committed = 0
    dirty = false
    notes = [serializeAuditEvent({ type: 'audit.reopened', detail: { reason, previousFile: { dev: old.dev, ino: old.ino } } }), ...notes]
  }

  async function commit(batch: readonly Pending[]): Promise<void> {
    const now = clock.now()
    try {
      await followPath()
      if (dirty) {
        await file.handle.truncate(committed)
        dirty = false
      }
      const bodies = [...notes]
      if (failure !== undefined) {
        failure.lastAttempt = now
        // The system error code (ENOSPC, EIO…), or AUDIT_WRITE_FAILED when the path held a foreign file.
        const cause = errorCode(failure.error.cause)
        const detail = { downMs: now - failure.since, refusedWrites: failure.refused, error: cause === 'error' ? failure.error.code : cause }
        bodies.push(serializeAuditEvent({ type: 'audit.recovered', detail }))
      }
      bodies.push(...batch.map((item) => item.body))
      if (bodies.length === 0) return
      const ts = new Date(now).toISOString()
      let nextSeq = seq
      let nextPrev = prev
      const lines = bodies.map((body) => {
        nextSeq += 1
        const line = composeAuditLine(nextSeq, ts, nextPrev, body)
        nextPrev = hashAuditLine(line)
        return line
      })
      const buffer = Buffer.from(lines.join('\n') + '\n', 'utf8')
      try {
        writeAll(file, buffer)
        if (durability === 'fsync') await file.handle.datasync()
      } catch (error) {
        dirty = true
        throw error
      }
      seq = nextSeq
      prev = nextPrev
      committed += buffer.length
      notes = []
      if (failure !== undefined) recovered()
      options.onCommit?.(batch.length, clock.now() - now)
      for (const item of batch) item.resolve()
    } catch (error) {
      fail(error, now, batch.length)
      // Best effort: cut the torn bytes now (shrinking needs no space), so that a restart during
      // the outage finds a clean file; the next attempt truncates again anyway. Before the batch
      // hears of the failure, so whoever it reaches finds the file ending with a committed record.
      if (dirty) await file.handle.truncate(committed).then(() => (dirty = false), () => {})
      for (const item of batch) item.reject(failure?.error)
    }
  }

  function fail(error: unknown, now: number, refused: number): void {
    if (failure === undefined) {
      const wrapped = error instanceof AuditError ? error : new AuditError('AUDIT_WRITE_FAILED', `audit log ${path}: write failed`, { cause: error })
      failure = { error: wrapped, since: now, refused: 0, lastAttempt: now }
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
    // A probe (failed log or unwritten notes, nothing queued) still runs one commit.
    let probe = failure !== undefined || notes.length > 0
    while (queue.length > 0 || probe) {
      probe = false
      const batch = queue
      queue = []
      await commit(batch)
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
    // Start on the next microtask so writes issued in the same tick share one commit.
    queueMicrotask(() => void flush())
  }

  const log: AuditLog = {
    write(event) {
      if (closed) return Promise.reject(new AuditError('AUDIT_CLOSED', `audit log ${path}: closed`))
      // While failed, refuse at once unless a probe is due; a write made while a probe is in
      // flight waits for its outcome (and goes in the next commit, or is refused with it).
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
        queue.push({ body, resolve, reject })
        if (!flushing) startFlush()
      })
    },
    head: () => prev,
    health: () => (closed ? { ok: false, reason: 'audit_closed' } : failure !== undefined ? { ok: false, reason: 'audit_write_failed' } : { ok: true }),
    async close() {
      if (closed) return
      closed = true
      clearInterval(retryTimer)
      await idle()
      await file.handle.close()
    },
    async checkpoint(): Promise<SignedCheckpoint | undefined> {
      if (options.signer === undefined) return undefined
      await idle()
      // Only committed records: `seq` and `prev` move once a commit is durable.
      if (seq === 0 || seq === checkpointed) return undefined
      const signed = options.signer.sign({ seq, hash: prev })
      await appendCheckpointLine(checkpointFilePath(path), signed)
      checkpointed = Math.max(checkpointed, signed.seq)
      return signed
    },
  }
  // Write the repair record now: the torn bytes are saved aside, the record says where.
  if (notes.length > 0) {
    flushing = true
    await flush()
  }
  return log
}

/**
 * Appends the batch with write(2) on the event loop's own thread: into the page cache it takes
 * microseconds, less than handing it to the thread pool and back (two wake-ups per commit, the
 * largest part of the audit's cost per call). fdatasync, which waits for the disk, stays async.
 */
function writeAll(file: AuditFile, buffer: Buffer): void {
  let offset = 0
  while (offset < buffer.length) offset += writeSync(file.handle.fd, buffer, offset, buffer.length - offset)
}
