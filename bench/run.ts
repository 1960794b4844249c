// npm run bench: whoami through Airlock vs the same tool on a bare MCP SDK server, measured in one run.
import { fileURLToPath } from 'node:url'
import { startTestIssuer } from '../test/support/test-issuer.js'
import { openSessions, runLoad, type LoadResult } from './lib/load.js'
import { spawnServer, type ServerProcess } from './lib/spawn-server.js'

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000)
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000)
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number)
const SESSION_COUNTS = (process.env.BENCH_SESSIONS ?? '1000,10000').split(',').map(Number)
const script = (name: string) => fileURLToPath(new URL(`./servers/${name}`, import.meta.url))

const issuer = await startTestIssuer()
const tokens = new Map<string, string>()
async function bearer(url: string, subject: string): Promise<Record<string, string>> {
  const key = `${url}|${subject}`
  let token = tokens.get(key)
  if (token === undefined) {
    const now = Math.floor(Date.now() / 1000)
    token = await issuer.mint({ sub: subject, groups: ['bench'], aud: url, iat: now, exp: now + 6 * 3600 })
    tokens.set(key, token)
  }
  return { authorization: `Bearer ${token}` }
}

async function measure(server: ServerProcess, withAuth: boolean): Promise<LoadResult[]> {
  const results: LoadResult[] = []
  for (const concurrency of LEVELS) {
    results.push(
      await runLoad({
        url: server.url,
        concurrency,
        durationMs: DURATION_MS,
        warmupMs: WARMUP_MS,
        tool: 'whoami',
        headers: (worker) => (withAuth ? bearer(server.url, `bench-${worker % 16}`) : Promise.resolve({})),
      }),
    )
  }
  return results
}

const fmt = (n: number, digits = 2) => n.toFixed(digits)
const bare = await spawnServer(script('bare-server.ts'))
const baseline = await measure(bare, false)
const variants: [string, LoadResult[]][] = []
for (const durability of ['fsync', 'write']) {
  const airlock = await spawnServer(script('airlock-server.ts'), { BENCH_ISSUER: issuer.issuer, BENCH_DURABILITY: durability })
  variants.push([`airlock (audit ${durability})`, await measure(airlock, true)])
  await airlock.stop()
}

console.log(`\nwhoami tools/call, ${DURATION_MS} ms per level, 2 processes (load generator + server)\n`)
console.log('server                 conc   calls/s  p50 ms  p99 ms  ratio  +p50 ms  +p99 ms  errors')
for (const [i, base] of baseline.entries()) {
  console.log(`bare MCP SDK          ${String(base.concurrency).padStart(5)} ${fmt(base.throughput, 0).padStart(9)} ${fmt(base.p50).padStart(7)} ${fmt(base.p99).padStart(7)}`)
  for (const [name, results] of variants) {
    const r = results[i]
    if (r === undefined) continue
    console.log(
      `${name.padEnd(21)} ${String(r.concurrency).padStart(5)} ${fmt(r.throughput, 0).padStart(9)} ${fmt(r.p50).padStart(7)} ${fmt(r.p99).padStart(7)} ${fmt(r.throughput / base.throughput).padStart(6)} ${fmt(r.p50 - base.p50).padStart(8)} ${fmt(r.p99 - base.p99).padStart(8)} ${String(r.errors).padStart(7)}`,
    )
  }
}

console.log('\nmemory with open sessions, after a full GC (MiB, rss / heap used)')
const airlock = await spawnServer(script('airlock-server.ts'), { BENCH_ISSUER: issuer.issuer, BENCH_DURABILITY: 'write' })
const show = async (label: string, openAirlock: number, openBare: number) => {
  const a = await airlock.memory()
  const b = await bare.memory()
  console.log(`${label.padEnd(16)} airlock ${fmt(a.rssMiB, 1)} / ${fmt(a.heapMiB, 1)} (${openAirlock} open)   bare ${fmt(b.rssMiB, 1)} / ${fmt(b.heapMiB, 1)} (${openBare} open)`)
}
let openAirlock = 0
let openBare = 0
await show('idle', 0, 0)
for (const target of SESSION_COUNTS) {
  openAirlock += await openSessions(airlock.url, target - openAirlock, (i) => bearer(airlock.url, `sessions-${i % 16}`))
  openBare += await openSessions(bare.url, target - openBare, async () => ({}))
  await show(`${target} sessions`, openAirlock, openBare)
}
await airlock.stop()
await bare.stop()
await issuer.stop()
