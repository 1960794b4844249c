const PAGE = 4096
const ZERO_BLOCK = new Uint8Array(64 * 1024)

/** Runs of 4 KiB pages: the bytes of a run that is not all zero, `undefined` for one that is. */
type Runs = readonly (readonly [start: number, end: number, bytes: Uint8Array | undefined])[]

/**
 * A copy of a WebAssembly instance's linear memory, put back over it before each use so every use
 * starts from the same bytes. Restoring all of it means writing every byte (10 MiB for the shell
 * parser: most of a parse's cost), so a restore can be bounded instead: everything below the
 * highest address the last use may have written, and the top of memory, where TinyGo keeps its
 * heap's block metadata. Whether a bound was right is checked by comparing all of memory.
 */
export interface MemoryImage {
  /** Size of the memory the image was taken of. */
  readonly size: number
  /**
   * Writes the image back over `memory`: all of it, or only below `below` (rounded up to a page)
   * and the top 1/32 of memory.
   */
  restore(memory: Uint8Array, below?: number): void
  /** Whether `memory` holds exactly the image's bytes (reads all of it). */
  matches(memory: Uint8Array): boolean
}

function runsOf(memory: Uint8Array): Runs {
  const runs: [start: number, end: number, zero: boolean][] = []
  for (let start = 0; start < memory.byteLength; start += PAGE) {
    const end = Math.min(start + PAGE, memory.byteLength)
    const zero = Buffer.compare(memory.subarray(start, end), ZERO_BLOCK.subarray(0, end - start)) === 0
    const last = runs.at(-1)
    if (last !== undefined && last[2] === zero) last[1] = end
    else runs.push([start, end, zero])
  }
  return runs.map(([start, end, zero]) => [start, end, zero ? undefined : memory.slice(start, end)])
}

/** Takes an image of `memory` as it is now. */
export function takeMemoryImage(memory: Uint8Array): MemoryImage {
  const runs = runsOf(memory)
  const size = memory.byteLength
  const top = Math.floor((size - size / 32) / PAGE) * PAGE

  function restoreRange(memory: Uint8Array, from: number, to: number): void {
    for (const [start, end, bytes] of runs) {
      const lo = Math.max(start, from)
      const hi = Math.min(end, to)
      if (lo >= hi) continue
      if (bytes === undefined) memory.fill(0, lo, hi)
      else memory.set(bytes.subarray(lo - start, hi - start), lo)
    }
  }

  return {
    size,
    restore(memory, below) {
      if (memory.byteLength !== size) throw new TypeError('memory is not the size of the image')
      const bound = below === undefined ? size : Math.min(size, Math.ceil(Math.max(0, below) / PAGE) * PAGE)
      if (bound >= top) {
        restoreRange(memory, 0, size)
        return
      }
      restoreRange(memory, 0, bound)
      restoreRange(memory, top, size)
    },
    matches(memory) {
      if (memory.byteLength !== size) return false
      for (const [start, end, bytes] of runs) {
        if (bytes !== undefined) {
          if (Buffer.compare(memory.subarray(start, end), bytes) !== 0) return false
          continue
        }
        // Zero runs in large blocks: one compare per 4 KiB page would cost several times more.
        for (let at = start; at < end; at += ZERO_BLOCK.byteLength) {
          const stop = Math.min(at + ZERO_BLOCK.byteLength, end)
          if (Buffer.compare(memory.subarray(at, stop), ZERO_BLOCK.subarray(0, stop - at)) !== 0) return false
        }
      }
      return true
    },
  }
}
