import { performance } from 'node:perf_hooks'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ownSignalFetch } from './own-signal-fetch.js'

export interface LoadResult {
  readonly concurrency: number
  readonly calls: number
  readonly errors: number
  readonly throughput: number
  readonly p50: number
  readonly p99: number
  /** CPU time of this (load generator) process per call, warm-up calls included, in ms. */
  readonly cpuPerCallMs: number
  /** Calls made during warm-up and recording together (to share out CPU measured elsewhere). */
  readonly totalCalls: number
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** One worker's call: resolves true on success, false on an error result (thrown errors stop the run). */
export type Call = () => Promise<boolean>

/** Raw latencies of one recorded run. */
export interface Sample {
  readonly latencies: readonly number[]
  readonly seconds: number
  /** Error results, warm-up included. */
  readonly errors: number
  readonly warmCalls: number
  /** User + system CPU of this process over warm-up and recording, in µs. */
  readonly cpuMicros: number
}

/**
 * Has each worker run its call back to back: unrecorded for `warmupMs`, then recorded for
 * `durationMs`. Latency is measured around each call.
 */
export async function sampleCalls(calls: readonly Call[], options: { readonly durationMs: number; readonly warmupMs: number }): Promise<Sample> {
  const latencies: number[] = []
  let errors = 0
  let warmCalls = 0
  const run = async (call: Call, until: number, record: boolean) => {
    while (performance.now() < until) {
      const started = performance.now()
      const ok = await call()
      const elapsed = performance.now() - started
      // Errors count during warm-up too: a run whose warm-up fails is not a run to trust.
      if (!ok) errors++
      if (record) latencies.push(elapsed)
      else warmCalls++
    }
  }
  const cpu = process.cpuUsage()
  const warm = performance.now() + options.warmupMs
  await Promise.all(calls.map((c) => run(c, warm, false)))
  const start = performance.now()
  await Promise.all(calls.map((c) => run(c, start + options.durationMs, true)))
  const used = process.cpuUsage(cpu)
  return { latencies, seconds: (performance.now() - start) / 1000, errors, warmCalls, cpuMicros: used.user + used.system }
}

/** Percentiles and throughput over one or more samples taken at the same concurrency. */
export function summarize(concurrency: number, samples: readonly Sample[]): LoadResult {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b)
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0)
  const totalCalls = latencies.length + samples.reduce((sum, s) => sum + s.warmCalls, 0)
  return {
    cpuPerCallMs: samples.reduce((sum, s) => sum + s.cpuMicros, 0) / 1000 / totalCalls,
    totalCalls,
    concurrency,
    calls: latencies.length,
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  }
}

/** {@link sampleCalls} summarized. */
export async function runCalls(calls: readonly Call[], options: { readonly durationMs: number; readonly warmupMs: number }): Promise<LoadResult> {
  return summarize(calls.length, [await sampleCalls(calls, options)])
}

/**
 * Runs every variant in turn, `rounds` times, each for durationMs / rounds (warm-up likewise), so
 * that load from outside the benchmark drifts across all variants alike. Calls are built once.
 */
export async function interleave(
  concurrency: number,
  variants: readonly (readonly [string, readonly Call[]])[],
  options: { readonly durationMs: number; readonly warmupMs: number; readonly rounds: number },
): Promise<Map<string, LoadResult>> {
  const samples = new Map<string, Sample[]>(variants.map(([name]) => [name, []]))
  const slice = { durationMs: options.durationMs / options.rounds, warmupMs: options.warmupMs / options.rounds }
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, calls] of variants) samples.get(name)?.push(await sampleCalls(calls, slice))
  }
  return new Map([...samples].map(([name, list]) => [name, summarize(concurrency, list)]))
}

/** An official MCP SDK client connected over Streamable HTTP with the given headers. */
export async function connectMcp(url: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: ownSignalFetch }))
  return client
}

/** Opens `concurrency` MCP sessions and has each call `tool` back to back for `durationMs`. */
export async function runLoad(options: {
  readonly url: string
  readonly concurrency: number
  readonly durationMs: number
  readonly warmupMs: number
  readonly headers: (worker: number) => Promise<Record<string, string>>
  readonly tool: string
  readonly args?: (worker: number) => Record<string, unknown>
}): Promise<LoadResult> {
  const clients = await Promise.all(Array.from({ length: options.concurrency }, async (_, worker) => connectMcp(options.url, await options.headers(worker))))
  try {
    return await runCalls(
      clients.map((client, worker) => {
        const args = options.args?.(worker) ?? {}
        return async () => (await client.callTool({ name: options.tool, arguments: args })).isError !== true
      }),
      options,
    )
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}

/** Opens `count` sessions with raw initialize requests (cheaper than full clients) and keeps them open. */
export async function openSessions(url: string, count: number, headers: (i: number) => Promise<Record<string, string>>): Promise<number> {
  let opened = 0
  const batch = 64
  for (let i = 0; i < count; i += batch) {
    const results = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, async (_, j) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(await headers(i + j)) },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
        })
        await response.text()
        return response.status === 200
      }),
    )
    opened += results.filter(Boolean).length
  }
  return opened
}
