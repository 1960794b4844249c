import { performance } from 'node:perf_hooks'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

export interface LoadResult {
  readonly concurrency: number
  readonly calls: number
  readonly errors: number
  readonly throughput: number
  readonly p50: number
  readonly p99: number
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

/** Opens `concurrency` MCP sessions and has each call `tool` back to back for `durationMs`. */
export async function runLoad(options: {
  readonly url: string
  readonly concurrency: number
  readonly durationMs: number
  readonly warmupMs: number
  readonly headers: (worker: number) => Promise<Record<string, string>>
  readonly tool: string
}): Promise<LoadResult> {
  const clients = await Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      const client = new Client({ name: 'bench', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(options.url), { requestInit: { headers: await options.headers(worker) } }))
      return client
    }),
  )
  const latencies: number[] = []
  let errors = 0
  const run = async (client: Client, until: number, record: boolean) => {
    while (performance.now() < until) {
      const started = performance.now()
      const result = await client.callTool({ name: options.tool, arguments: {} })
      const elapsed = performance.now() - started
      if (result.isError === true) errors++
      if (record) latencies.push(elapsed)
    }
  }
  const warm = performance.now() + options.warmupMs
  await Promise.all(clients.map((c) => run(c, warm, false)))
  const start = performance.now()
  await Promise.all(clients.map((c) => run(c, start + options.durationMs, true)))
  const seconds = (performance.now() - start) / 1000
  await Promise.all(clients.map((c) => c.close()))
  latencies.sort((a, b) => a - b)
  return {
    concurrency: options.concurrency,
    calls: latencies.length,
    errors,
    throughput: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
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
