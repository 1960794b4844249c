/** What a benchmark needs of either SDK's client. */
export interface Caller {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>
}

/** Median and p90 of `calls` sequential whoami calls, after a warm-up. */
export async function measureWhoami(client: Caller, calls: number, warmup = 30): Promise<{ median: number; p90: number }> {
  for (let i = 0; i < warmup; i++) await client.callTool({ name: 'whoami', arguments: {} })
  const times: number[] = []
  for (let i = 0; i < calls; i++) {
    const start = performance.now()
    await client.callTool({ name: 'whoami', arguments: {} })
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(times.length / 2)] ?? NaN, p90: times[Math.floor(times.length * 0.9)] ?? NaN }
}
