import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Clock } from '../clock.js'
import { ConfigError } from '../errors.js'
import { AUDIT_GENESIS_PREV, auditRecordHeaderSchema, hashAuditLine } from './audit-chain.js'
import { errorCode, type AuditFile } from './open-audit-file.js'
import { readTailLinesOf } from './read-tail-lines.js'

/** Bytes after the last complete record, found at start and kept aside before they are cut off. */
export interface TornTail {
  /** Where the last complete record ends: the file is truncated back to here before the next write. */
  readonly offset: number
  readonly bytes: number
  /** SHA-256 (hex) of the torn bytes. */
  readonly sha256: string
  /** The side file (in the log's folder) holding the torn bytes verbatim. */
  readonly savedTo: string
}

/** Where an existing log's chain continues: last `seq`, hash of the last record, committed size. */
export interface ResumePoint {
  readonly seq: number
  readonly prev: string
  /** Offset just after the last complete record. */
  readonly committed: number
  readonly torn?: TornTail
}

/**
 * Finds where the chain of an already opened audit file continues. A torn final line (a record
 * cut short by a crash or a failed write: no trailing newline) is copied verbatim into
 * `<path>.torn-<time>` (0600, fsynced) and reported, so the caller can cut it off and record an
 * `audit.repaired` event. A last COMPLETE line that is not a valid record is not a crash but
 * damage or tampering: that is refused.
 *
 * Throws ConfigError CONFIG_INVALID when the file cannot be read, its last complete line is not an
 * audit record, or the torn bytes cannot be saved.
 */
export async function resumeAuditFile(file: AuditFile, path: string, clock: Clock): Promise<ResumePoint> {
  const { lines, partial, size } = await readTailLinesOf(file.handle, 1).catch((error: unknown) => {
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: cannot read (${errorCode(error)})`, { cause: error })
  })
  const last = lines[0]
  const resume = last === undefined ? { seq: 0, prev: AUDIT_GENESIS_PREV } : parseLast(path, last)
  if (partial.length === 0) return { ...resume, committed: size }
  const offset = size - partial.length
  const savedTo = await saveTorn(path, partial, clock)
  const sha256 = createHash('sha256').update(partial).digest('hex')
  return { ...resume, committed: offset, torn: { offset, bytes: partial.length, sha256, savedTo: basename(savedTo) } }
}

function parseLast(path: string, last: Buffer): { seq: number; prev: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(last.toString('utf8'))
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: last complete line is not JSON; verify the file and move it aside`, { cause: error })
  }
  const header = auditRecordHeaderSchema.safeParse(parsed)
  if (!header.success) {
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: last complete line is not an audit record; verify the file and move it aside`)
  }
  return { seq: header.data.seq, prev: hashAuditLine(last) }
}

async function saveTorn(path: string, bytes: Buffer, clock: Clock): Promise<string> {
  const stamp = new Date(clock.now()).toISOString().replace(/:/g, '-')
  for (let attempt = 0; attempt < 100; attempt++) {
    const side = `${path}.torn-${stamp}${attempt === 0 ? '' : `-${attempt}`}`
    let handle
    try {
      handle = await open(side, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600)
    } catch (error) {
      if (errorCode(error) === 'EEXIST') continue
      throw new ConfigError('CONFIG_INVALID', `audit log ${path}: last line is torn and cannot be saved aside to ${side} (${errorCode(error)})`, { cause: error })
    }
    try {
      await handle.writeFile(bytes)
      await handle.sync()
    } catch (error) {
      throw new ConfigError('CONFIG_INVALID', `audit log ${path}: last line is torn and cannot be saved aside to ${side} (${errorCode(error)})`, { cause: error })
    } finally {
      await handle.close()
    }
    return side
  }
  throw new ConfigError('CONFIG_INVALID', `audit log ${path}: last line is torn and no free name to save it aside`)
}
