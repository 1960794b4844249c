import { constants } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { AuditError } from '../errors.js'
import type { SignedCheckpoint } from './audit-checkpoint.js'
import type { CheckpointSource } from './check-checkpoints.js'
import { errorCode } from './open-audit-file.js'
import { readTailLinesOf } from './read-tail-lines.js'

/** Where a file log keeps its signed checkpoints: next to it, one JSON object per line. */
export function checkpointFilePath(auditPath: string): string {
  return `${auditPath}.checkpoints`
}

const FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0)

/**
 * Appends one checkpoint line durably: opens (creating, 0600), cuts a torn last line a crash may
 * have left, writes, fdatasyncs, closes. Opened per checkpoint (one a minute or so), so a file
 * moved or deleted meanwhile is simply started again. Throws AuditError AUDIT_WRITE_FAILED.
 */
export async function appendCheckpointLine(path: string, checkpoint: SignedCheckpoint): Promise<void> {
  let handle
  try {
    handle = await open(path, FLAGS, 0o600)
  } catch (error) {
    throw new AuditError('AUDIT_WRITE_FAILED', `audit checkpoints ${path}: cannot open (${errorCode(error)})`, { cause: error })
  }
  try {
    const { partial, size } = await readTailLinesOf(handle, 0)
    if (partial.length > 0) await handle.truncate(size - partial.length)
    await handle.write(`${JSON.stringify(checkpoint)}\n`)
    await handle.datasync()
  } catch (error) {
    throw new AuditError('AUDIT_WRITE_FAILED', `audit checkpoints ${path}: cannot append (${errorCode(error)})`, { cause: error })
  } finally {
    await handle.close().catch(() => {})
  }
}

/** The checkpoints of a file log, each named `<label>:<line>`; `torn` when the last line was cut short (a crash while writing it). */
export interface CheckpointFile {
  readonly sources: readonly CheckpointSource[]
  readonly torn: boolean
}

/**
 * Reads a checkpoint file; undefined when there is none. A line that is not JSON is kept (as
 * `raw: undefined`) so that the check reports it rather than skipping it. I/O errors are thrown.
 */
export async function readCheckpointFile(path: string, label: string): Promise<CheckpointFile | undefined> {
  let text: string
  try {
    text = await readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NONBLOCK })
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  const lines = text.split('\n')
  const last = lines.pop() ?? ''
  const sources = lines.map((line, index) => ({ where: `${label}:${index + 1}`, raw: parseJson(line) }))
  return { sources, torn: last.length > 0 }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}
