import type { FileHandle } from 'node:fs/promises'
import { open, stat } from 'node:fs/promises'
import type { Clock } from '../clock.js'
import { AuditError, ConfigError } from '../errors.js'
import { AUDIT_GENESIS_PREV, auditRecordHeaderSchema, hashAuditLine } from './audit-chain.js'
import type { AuditEvent, AuditSink } from './audit-event.js'
import { readTailLines } from './read-tail-lines.js'

export interface AuditLogOptions {
  readonly path: string
  readonly clock: Clock
  /**
   * 'fsync' (default): resolve after fdatasync, so a record survives a crash of the machine.
   * 'write': resolve once the record is in the kernel, which survives a crash of this process.
   */
  readonly durability?: 'write' | 'fsync'
  /** Called after each group commit with the number of records it made durable (metrics). */
  readonly onCommit?: (records: number) => void
}

export interface AuditLog extends AuditSink {
  /** Hash of the last record written (the value the next record's `prev` will hold). */
  head(): string
  /** Waits for queued writes, then closes the file; later writes reject with AUDIT_CLOSED. */
  close(): Promise<void>
}

interface Pending {
  readonly body: string
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

const RESERVED = ['seq', 'ts', 'prev'] as const

/**
 * Opens (or creates, mode 0600) an append-only, hash-chained JSON Lines audit log. Each line is
 * `{ seq, ts, prev, ...event }`; see `AUDIT_GENESIS_PREV` for the chain. An existing file resumes
 * its chain from its last line. Concurrent writes are group-committed: everything queued while one
 * write is in flight goes out in the next single write (and fdatasync). After any I/O failure
 * every pending and later write rejects (fail closed).
 *
 * Throws ConfigError CONFIG_INVALID when the file cannot be opened, or when it ends in a partial
 * or invalid record: appending after that would hide the damage, so an operator must inspect
 * (`airlock audit verify`) and move the file aside. The log does not lock the file: one writer
 * (one AuditLog in one process) per path.
 */
export async function openAuditLog(options: AuditLogOptions): Promise<AuditLog> {
  const { path, clock } = options
  const durability = options.durability ?? 'fsync'
  const { seq: lastSeq, prev: lastPrev } = await resumePoint(path)
  const handle = await open(path, 'a', 0o600).catch((error: unknown) => {
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: cannot open for appending`, { cause: error })
  })

  let seq = lastSeq
  let prev = lastPrev
  let queue: Pending[] = []
  let flushing = false
  let failure: AuditError | undefined
  let closed = false
  let drained: (() => void) | undefined

  async function flush(): Promise<void> {
    while (queue.length > 0 && failure === undefined) {
      const batch = queue
      queue = []
      const ts = new Date(clock.now()).toISOString()
      const lines: string[] = []
      let nextSeq = seq
      let nextPrev = prev
      for (const item of batch) {
        nextSeq += 1
        const line = composeLine(nextSeq, ts, nextPrev, item.body)
        nextPrev = hashAuditLine(line)
        lines.push(line)
      }
      try {
        await writeAll(handle, Buffer.from(lines.join('\n') + '\n', 'utf8'))
        if (durability === 'fsync') await handle.datasync()
      } catch (error) {
        failure = new AuditError('AUDIT_WRITE_FAILED', `audit log ${path}: write failed`, { cause: error })
        for (const item of [...batch, ...queue]) item.reject(failure)
        queue = []
        break
      }
      seq = nextSeq
      prev = nextPrev
      options.onCommit?.(batch.length)
      for (const item of batch) item.resolve()
    }
    flushing = false
    drained?.()
  }

  return {
    write(event) {
      if (closed) return Promise.reject(new AuditError('AUDIT_CLOSED', `audit log ${path}: closed`))
      if (failure !== undefined) return Promise.reject(failure)
      let body: string
      try {
        body = serializeEvent(event)
      } catch (error) {
        return Promise.reject(error)
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ body, resolve, reject })
        if (!flushing) {
          flushing = true
          // Start on the next microtask so writes issued in the same tick share one commit.
          queueMicrotask(() => void flush())
        }
      })
    },
    head: () => prev,
    async close() {
      if (closed) return
      closed = true
      if (flushing) await new Promise<void>((resolve) => (drained = resolve))
      await handle.close()
    },
  }
}

/** `{"seq":…,"ts":…,"prev":…` followed by the event's own fields, in one compact line. */
function composeLine(seq: number, ts: string, prev: string, body: string): string {
  const header = `{"seq":${seq},"ts":${JSON.stringify(ts)},"prev":"${prev}"`
  return body === '{}' ? `${header}}` : `${header},${body.slice(1)}`
}

function serializeEvent(event: AuditEvent): string {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new TypeError('audit event must be an object')
  }
  for (const key of RESERVED) {
    if (Object.hasOwn(event, key)) throw new TypeError(`audit event must not set "${key}"`)
  }
  const body = JSON.stringify(event)
  if (!body.startsWith('{')) throw new TypeError('audit event must serialize to a JSON object')
  return body
}

async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset)
    offset += bytesWritten
  }
}

async function resumePoint(path: string): Promise<{ seq: number; prev: string }> {
  const exists = await stat(path).then(
    () => true,
    (error: unknown) => {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return false
      throw new ConfigError('CONFIG_INVALID', `audit log ${path}: cannot open`, { cause: error })
    },
  )
  if (!exists) return { seq: 0, prev: AUDIT_GENESIS_PREV }
  const { lines, partial, size } = await readTailLines(path, 1).catch((error: unknown) => {
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: cannot read`, { cause: error })
  })
  if (size === 0) return { seq: 0, prev: AUDIT_GENESIS_PREV }
  const last = lines[0]
  if (partial.length > 0 || last === undefined) {
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: last line is partial (no trailing newline); verify the file and move it aside`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(last.toString('utf8'))
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: last line is not JSON; verify the file and move it aside`, { cause: error })
  }
  const header = auditRecordHeaderSchema.safeParse(parsed)
  if (!header.success) {
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: last line is not an audit record; verify the file and move it aside`)
  }
  return { seq: header.data.seq, prev: hashAuditLine(last) }
}
