import { performance } from 'node:perf_hooks'

/**
 * Mean microseconds per call of `fn`, run back to back (awaited) for at least `minMs` after a
 * warm-up of the same length, so JIT and parser caches are warm as in a long-running gateway.
 */
export async function timePerCall(fn: () => unknown, minMs = 500): Promise<{ readonly meanMicros: number; readonly iterations: number }> {
  const loop = async (ms: number) => {
    let iterations = 0
    const start = performance.now()
    while (performance.now() - start < ms) {
      await fn()
      iterations++
    }
    return { iterations, elapsed: performance.now() - start }
  }
  await loop(minMs)
  const { iterations, elapsed } = await loop(minMs)
  return { meanMicros: (elapsed * 1000) / iterations, iterations }
}
