// Valid callers' tools/call latency while another address floods the gateway with refused tokens:
// with the per-address limit (429 before any JWT work) and without it (every token verified).
// `tsx bench/auth-flood.ts`; BENCH_DURATION_MS, BENCH_WARMUP_MS, BENCH_ROUNDS, BENCH_CONCURRENCY
// (valid clients, default 4), BENCH_FLOOD_RATE (requests/s, default 1000), BENCH_DURABILITY
// (default write: on a shared disk fsync variance would drown what is measured here).
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from 'jose'
import { startTestIssuer } from '../test/support/test-issuer.js'
import { connectMcp, percentile, sampleCalls } from './lib/load.js'
import { spawnServer, type ServerProcess } from './lib/spawn-server.js'

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 8000)
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1500)
const CLIENTS = Number(process.env.BENCH_CONCURRENCY ?? 4)
const FLOOD_RATE = Number(process.env.BENCH_FLOOD_RATE ?? 1000)
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
const DURABILITY = process.env.BENCH_DURABILITY === 'fsync' ? 'fsync' : 'write'
const SERVER = fileURLToPath(new URL('./servers/airlock-server.ts', import.meta.url))
const WORKER = fileURLToPath(new URL('./lib/flood-worker.ts', import.meta.url))

interface FloodReport {
  readonly sent: number
  readonly skipped: number
  readonly byStatus: Record<string, number>
  readonly seconds: number
}

interface Flood {
  stop(): Promise<FloodReport>
}

/** Starts the flood from `localAddress` in its own process. */
function startFlood(url: string, localAddress: string, token: string): Promise<Flood> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, url, localAddress, String(FLOOD_RATE), token], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  return new Promise((resolve) => {
    let report: (text: string) => void = () => undefined
    lines.on('line', (line) => {
      if (line === 'FLOODING') {
        resolve({
          stop() {
            const done = new Promise<string>((r) => (report = r))
            child.stdin.end()
            return done.then((text): FloodReport => JSON.parse(text))
          },
        })
      } else if (line.startsWith('FLOOD ')) report(line.slice(6))
    })
  })
}

const issuer = await startTestIssuer()
const { privateKey } = await generateKeyPair('RS256')

interface Slice {
  readonly latencies: readonly number[]
  readonly seconds: number
  readonly errors: number
  readonly gatewayCpuMs: number
  readonly flood: FloodReport | undefined
}

/** whoami by CLIENTS valid clients from 127.0.0.1 for one slice, optionally under a flood from 127.0.0.2. */
async function measure(server: ServerProcess, flooded: boolean, durationMs: number, warmupMs: number): Promise<Slice> {
  const now = Math.floor(Date.now() / 1000)
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => connectMcp(server.url, { authorization: `Bearer ${await issuer.mint({ sub: `bench-${i}`, groups: ['bench'], aud: server.url, iat: now, exp: now + 3600 })}` })),
  )
  // Signed by a key the issuer never published, under the issuer's kid: each costs a signature check.
  const forged = await issuer.mint({ sub: 'flood', aud: server.url }, { key: privateKey })
  const flood = flooded ? await startFlood(server.url, '127.0.0.2', forged) : undefined
  const cpuBefore = await server.cpuMs()
  const sample = await sampleCalls(
    clients.map((client) => async () => (await client.callTool({ name: 'whoami', arguments: {} })).isError !== true),
    { durationMs, warmupMs },
  )
  const gatewayCpuMs = (await server.cpuMs()) - cpuBefore
  const floodReport = await flood?.stop()
  await Promise.all(clients.map((c) => c.close()))
  return { latencies: sample.latencies, seconds: sample.seconds, errors: sample.errors, gatewayCpuMs, flood: floodReport }
}

const servers = new Map<boolean, ServerProcess>()
for (const limited of [true, false]) {
  servers.set(limited, await spawnServer(SERVER, { BENCH_ISSUER: issuer.issuer, BENCH_DURABILITY: DURABILITY, BENCH_CONFIG: JSON.stringify({ unauthenticatedLimit: { enabled: limited } }) }))
}
const variants = [
  ['limit on,  no flood', true, false],
  ['limit on,  flood', true, true],
  ['limit off, no flood', false, false],
  ['limit off, flood', false, true],
] as const
const slices = new Map<string, Slice[]>(variants.map(([name]) => [name, []]))
// Alternating short slices, so that load from outside the benchmark falls on every variant alike.
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, limited, flooded] of variants) {
    const server = servers.get(limited)
    if (server !== undefined) slices.get(name)?.push(await measure(server, flooded, DURATION_MS / ROUNDS, WARMUP_MS / ROUNDS))
  }
}
for (const server of servers.values()) await server.stop()
await issuer.stop()

const fmt = (n: number, digits = 2) => n.toFixed(digits)
console.log(`\nwhoami tools/call by ${CLIENTS} valid clients (127.0.0.1), ${DURATION_MS} ms per variant in ${ROUNDS} alternating slices; audit ${DURABILITY}`)
console.log(`flood: ${FLOOD_RATE} requests/s offered from 127.0.0.2, each with a bad-signature token under the issuer's kid\n`)
console.log('variant               p50 ms  p95 ms  calls/s  errors  gateway CPU ms/s  flood sent/s  flood answers')
for (const [name] of variants) {
  const list = slices.get(name) ?? []
  const sorted = list.flatMap((s) => s.latencies).sort((a, b) => a - b)
  const seconds = list.reduce((sum, s) => sum + s.seconds, 0)
  const cpu = list.reduce((sum, s) => sum + s.gatewayCpuMs, 0)
  const floods = list.flatMap((s) => (s.flood === undefined ? [] : [s.flood]))
  const sent = floods.reduce((sum, f) => sum + f.sent, 0)
  const floodSeconds = floods.reduce((sum, f) => sum + f.seconds, 0)
  const answers = new Map<string, number>()
  for (const f of floods) for (const [status, n] of Object.entries(f.byStatus)) answers.set(status, (answers.get(status) ?? 0) + n)
  const skipped = floods.reduce((sum, f) => sum + f.skipped, 0)
  console.log(
    `${name.padEnd(20)} ${fmt(percentile(sorted, 50)).padStart(7)} ${fmt(percentile(sorted, 95)).padStart(7)} ${fmt(sorted.length / seconds, 0).padStart(8)} ${String(list.reduce((sum, s) => sum + s.errors, 0)).padStart(7)} ${fmt(cpu / (seconds + (WARMUP_MS / 1000)), 0).padStart(17)} ${floods.length === 0 ? '' : fmt(sent / floodSeconds, 0).padStart(13)}  ${[...answers].map(([status, n]) => `${status}×${n}`).join(' ')}${skipped > 0 ? ` (${skipped} not sent: ${256} in flight)` : ''}`,
  )
}
