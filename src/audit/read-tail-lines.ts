import { constants } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { open } from 'node:fs/promises'
import { ConfigError } from '../errors.js'

/** The last complete lines of a file and whether the file ends mid-line. */
export interface TailLines {
  /** Up to `count` complete lines (raw bytes, without `\n`), oldest first. */
  readonly lines: readonly Buffer[]
  /** Bytes after the last `\n` (a partial line), empty when the file ends with `\n`. */
  readonly partial: Buffer
  readonly size: number
}

const CHUNK = 64 * 1024

/**
 * Reads the last `count` newline-terminated lines of a file by scanning backwards, so opening or
 * tailing a large audit log costs the size of its tail, not of the whole file.
 */
export async function readTailLines(path: string, count: number): Promise<TailLines> {
  if (!Number.isInteger(count) || count < 0) throw new TypeError('count must be a non-negative integer')
  // O_NONBLOCK: a FIFO at the path must not hang the reader waiting for a writer.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    return await readTailLinesOf(handle, count)
  } finally {
    await handle.close()
  }
}

/**
 * {@link readTailLines} through an already open handle (positional reads, any open mode that
 * reads). Throws ConfigError CONFIG_INVALID when the handle is not a regular file.
 */
export async function readTailLinesOf(handle: FileHandle, count: number): Promise<TailLines> {
  if (!Number.isInteger(count) || count < 0) throw new TypeError('count must be a non-negative integer')
  const stats = await handle.stat()
  if (!stats.isFile()) throw new ConfigError('CONFIG_INVALID', 'not a regular file')
  return { ...(await scanBackwards(handle, stats.size, count)), size: stats.size }
}

async function scanBackwards(handle: FileHandle, size: number, count: number): Promise<Omit<TailLines, 'size'>> {
  let tail = Buffer.alloc(0)
  let position = size
  // Need count + 1 newlines (or the start of the file) to know the first wanted line is whole.
  while (position > 0 && countNewlines(tail) <= count) {
    const length = Math.min(CHUNK, position)
    position -= length
    const chunk = Buffer.alloc(length)
    const { bytesRead } = await handle.read(chunk, 0, length, position)
    tail = Buffer.concat([chunk.subarray(0, bytesRead), tail])
  }
  const lastNewline = tail.lastIndexOf(0x0a)
  const partial = tail.subarray(lastNewline + 1)
  const body = lastNewline < 0 ? Buffer.alloc(0) : tail.subarray(0, lastNewline)
  const lines: Buffer[] = []
  let end = body.length
  while (lines.length < count && lastNewline >= 0) {
    const start = end === 0 ? -1 : body.lastIndexOf(0x0a, end - 1)
    if (start < 0 && position > 0) break
    lines.unshift(body.subarray(start + 1, end))
    if (start < 0) break
    end = start
  }
  return { lines, partial }
}

function countNewlines(buffer: Buffer): number {
  let n = 0
  for (let i = buffer.indexOf(0x0a); i >= 0; i = buffer.indexOf(0x0a, i + 1)) n += 1
  return n
}
