import { performance } from 'node:perf_hooks'

/**
 * Microseconds per call of `fn`, run back to back (awaited): warmed up for `minMs` and at least
 * 200 calls (JIT, WASM and parser caches warm, as in a long-running gateway), then timed in 20
 * batches of `minMs / 20`. The median batch is reported, so a burst of load from outside the
 * benchmark moves one batch rather than the result; `best` is the quietest batch.
 */
export async function timePerCall(fn: () => unknown, minMs = 1000): Promise<{ readonly medianMicros: number; readonly bestMicros: number }> {
  const batch = async (ms: number, minCalls: number) => {
    let calls = 0
    const start = performance.now()
    while (performance.now() - start < ms || calls < minCalls) {
      await fn()
      calls++
    }
    return ((performance.now() - start) * 1000) / calls
  }
  await batch(minMs, 200)
  const batches: number[] = []
  for (let i = 0; i < 20; i++) batches.push(await batch(minMs / 20, 1))
  batches.sort((a, b) => a - b)
  return { medianMicros: batches[10] ?? Number.NaN, bestMicros: batches[0] ?? Number.NaN }
}
