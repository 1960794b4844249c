import { constants, type Stats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { lstat, open } from 'node:fs/promises'
import { ConfigError } from '../errors.js'

/** An open audit file and the identity (device, inode) it had when opened. */
export interface AuditFile {
  readonly handle: FileHandle
  readonly dev: number
  readonly ino: number
  readonly size: number
}

// Read-write so the tail can be read and a torn line truncated through the same descriptor.
// O_NONBLOCK: opening a FIFO must never wait for a peer (it is refused right after, by fstat).
// O_NOFOLLOW: a symbolic link at the path is refused (ELOOP), see openAuditFile.
const FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0)

/**
 * Opens (or creates, mode 0600) the audit file at `path` for appending without ever blocking.
 * The path must name a regular file: a FIFO, socket, device or directory is refused before
 * `open` (lstat) and again after it (fstat), which closes the race of a swap in between. A
 * symbolic link is refused too: the log checks on every commit that the path still names the
 * file it writes, moves torn lines aside next to it and reopens it when it is replaced, all of
 * which are only unambiguous when the configured path is the file itself.
 *
 * Throws ConfigError CONFIG_INVALID naming the path and what is there instead.
 */
export async function openAuditFile(path: string): Promise<AuditFile> {
  const before = await lstat(path).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: cannot open (${errorCode(error)})`, { cause: error })
  })
  if (before !== undefined) refuseUnlessRegular(path, before)
  let handle: FileHandle
  try {
    handle = await open(path, FLAGS, 0o600)
  } catch (error) {
    if (errorCode(error) === 'ELOOP') throw notRegular(path, 'a symbolic link')
    throw new ConfigError('CONFIG_INVALID', `audit log ${path}: cannot open for appending (${errorCode(error)})`, { cause: error })
  }
  try {
    const stats = await handle.stat()
    refuseUnlessRegular(path, stats)
    return { handle, dev: stats.dev, ino: stats.ino, size: stats.size }
  } catch (error) {
    await handle.close().catch(() => {})
    throw error
  }
}

function refuseUnlessRegular(path: string, stats: Stats): void {
  if (stats.isFile()) return
  throw notRegular(path, fileKind(stats))
}

function notRegular(path: string, kind: string): ConfigError {
  return new ConfigError('CONFIG_INVALID', `audit log ${path}: is ${kind}, not a regular file; audit.path must name a regular file`)
}

function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)'
  if (stats.isSymbolicLink()) return 'a symbolic link'
  if (stats.isDirectory()) return 'a directory'
  if (stats.isSocket()) return 'a socket'
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isBlockDevice()) return 'a block device'
  return 'not a regular file'
}

/** The `code` of a Node.js system error, or 'error'. */
export function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'error'
}
