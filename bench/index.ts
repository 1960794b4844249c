// npm run bench [-- --quick]: what Airlock adds, like for like. Every tool runs through the real
// gateway (token, policy, limits, guard, detectors, audit) and through a bare MCP SDK server that
// runs the same tool implementation against the same emulators (bench/servers/bare-tools-server.ts),
// on both protocol lanes, at 1, 16 and 64 clients, the variants alternating in slices. Then CPU
// profiles of the gateway and of the bare server per tool, summarised per stage side by side (with
// the throughput ceiling Airlock's own stages set), and the in-process decision costs.
// Writes bench/results/latest.json and prints the tables.
// BENCH_BARE_2025=per-request: the bare server serves each 2025 request afresh, as the gateway must
// for sessions any replica continues (default: one server per session, held in memory).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { startBenchGateway, type BenchGateway } from './lib/bench-gateway.js'
import { connectLane, isErrorResult, LANES, type Lane, type LaneClient } from './lib/lane-clients.js'
import { percentile, sampleCalls, summarize, type Call, type LoadResult, type Sample } from './lib/load.js'
import { measureGuardFloors } from './lib/guard-floors.js'
import { measureMicroCosts } from './lib/micro-costs.js'
import { profileStages, STAGES } from './lib/profile-stages.js'
import { checkTargets, comparison, printResults, printTargets, type BenchResults, type CellResult, type StageSummary, type VariantResult } from './lib/print-results.js'
import { floorOf, type StageCosts } from './lib/stage-floor.js'
import { spawnServer, type ServerProcess } from './lib/spawn-server.js'
import { startToolBackends, type Scenario } from './lib/tool-backends.js'

// The SDK's notice about future Node versions is noise in benchmark output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const quick = process.argv.includes('--quick')
// BENCH_PROFILE_MS: how long each server is profiled per tool and lane (longer: steadier stage costs).
const profileMs = Number(process.env.BENCH_PROFILE_MS ?? (quick ? 400 : 2500))
const settings = quick
  ? { durationMs: 400, warmupMs: 100, rounds: 1, profileMs, microMs: 250 }
  : { durationMs: 3000, warmupMs: 600, rounds: 3, profileMs, microMs: 1500 }
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number)
const ONLY = process.env.BENCH_TOOLS?.split(',')
const maxWorkers = Math.max(...LEVELS)
// BENCH_PROFILE_CLIENTS: how many clients drive the gateway while it is profiled (default 16).
const PROFILE_CLIENTS = Math.min(maxWorkers, Number(process.env.BENCH_PROFILE_CLIENTS ?? 16))
const started = performance.now()
/** Progress on stderr, so a slow phase shows where the time went. */
const phase = (name: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${name}\n`)

phase('starting emulators and servers')
const backends = await startToolBackends(maxWorkers)
const profileDir = await mkdtemp(join(tmpdir(), 'airlock-bench-profile-'))
const common = { policy: backends.policy, awsEndpoints: backends.awsEndpoints, awsKey: backends.awsKey }
const [airlock, airlockFsync, bare] = await Promise.all([
  startBenchGateway({ ...common, durability: 'write', cpuProfileDir: profileDir }),
  startBenchGateway({ ...common, durability: 'fsync' }),
  spawnServer(fileURLToPath(new URL('./servers/bare-tools-server.ts', import.meta.url)), {
    BENCH_POLICY: JSON.stringify(backends.policy),
    BENCH_AWS_ENDPOINTS: JSON.stringify(backends.awsEndpoints),
    BENCH_AWS_KEY: JSON.stringify(backends.awsKey),
    BENCH_CPU_PROFILE: profileDir,
  }),
])

interface Target {
  readonly name: string
  readonly server: ServerProcess
  readonly clients: Record<Lane, LaneClient[]>
  /** The gateways: their audit's group commits are read around each slice. */
  readonly audited?: boolean
}

const auditCountsSchema = z.object({ commits: z.number(), records: z.number(), seconds: z.number() })
type AuditCounts = z.infer<typeof auditCountsSchema>
const auditCounts = async (target: Target): Promise<AuditCounts> => auditCountsSchema.parse(JSON.parse(await target.server.ask('SIGURG', 'AUDIT ')))

async function connectAll(url: string, headers: (worker: number) => Promise<Record<string, string>>): Promise<Record<Lane, LaneClient[]>> {
  const clients = {} as Record<Lane, LaneClient[]>
  for (const lane of LANES) clients[lane] = await Promise.all(Array.from({ length: maxWorkers }, async (_, w) => connectLane(lane, url, await headers(w))))
  return clients
}
const gatewayHeaders = (gateway: BenchGateway) => (w: number) => gateway.bearer(`bench-${w}`, ['bench'])
const targets = {
  bare: { name: 'bare MCP SDK', server: bare, clients: await connectAll(bare.url, async () => ({})) },
  airlock: { name: 'airlock (audit write)', server: airlock.server, clients: await connectAll(airlock.url, gatewayHeaders(airlock)), audited: true },
  fsync: { name: 'airlock (audit fsync)', server: airlockFsync.server, clients: await connectAll(airlockFsync.url, gatewayHeaders(airlockFsync)), audited: true },
} satisfies Record<string, Target>

const callsOf = (target: Target, lane: Lane, scenario: Scenario, concurrency: number): Call[] =>
  target.clients[lane].slice(0, concurrency).map((client, w) => {
    const args = scenario.args(w)
    return async () => !isErrorResult(await client.callTool({ name: scenario.tool, arguments: args }))
  })

/** Runs the variants in turn, `rounds` times; each slice also reads its server's CPU time. */
async function interleaved(variants: readonly Target[], lane: Lane, scenario: Scenario, concurrency: number): Promise<VariantResult[]> {
  const samples = variants.map(() => [] as Sample[])
  const cpu = variants.map(() => 0)
  const audit = variants.map((): AuditCounts => ({ commits: 0, records: 0, seconds: 0 }))
  const slice = { durationMs: settings.durationMs / settings.rounds, warmupMs: settings.warmupMs / settings.rounds }
  for (let round = 0; round < settings.rounds; round++) {
    for (const [i, target] of variants.entries()) {
      const calls = callsOf(target, lane, scenario, concurrency)
      const auditBefore = target.audited === true ? await auditCounts(target) : undefined
      const before = await target.server.cpuMs()
      samples[i]?.push(await sampleCalls(calls, slice))
      cpu[i] = (cpu[i] ?? 0) + (await target.server.cpuMs()) - before
      const sum = audit[i]
      if (auditBefore !== undefined && sum !== undefined) {
        const after = await auditCounts(target)
        audit[i] = { commits: sum.commits + after.commits - auditBefore.commits, records: sum.records + after.records - auditBefore.records, seconds: sum.seconds + after.seconds - auditBefore.seconds }
      }
    }
  }
  return variants.map((target, i) => {
    const result: LoadResult = summarize(concurrency, samples[i] ?? [])
    const commits = audit[i]
    const auditCommits =
      target.audited === true && commits !== undefined && commits.commits > 0
        ? { recordsPerCommit: commits.records / commits.commits, meanCommitMs: (commits.seconds * 1000) / commits.commits }
        : undefined
    const p50PerRoundMs = (samples[i] ?? []).map((s) => percentile([...s.latencies].sort((a, b) => a - b), 50))
    return { server: target.name, ...result, serverCpuPerCallMs: (cpu[i] ?? 0) / result.totalCalls, p50PerRoundMs, ...(auditCommits === undefined ? {} : { auditCommits }) }
  })
}

const scenarios = backends.scenarios.filter((s) => ONLY === undefined || ONLY.includes(s.tool) || ONLY.includes(s.name))

phase('clients connected; idle CPU')
// What each server spends with its clients connected and nothing asked: timers and samplers that
// run whether or not anyone calls (on a busy replica the same wakeups cost each call a share).
const idleMs = quick ? 1000 : 3000
const idleBefore = { airlock: await airlock.server.cpuMs(), bare: await bare.cpuMs() }
await sleep(idleMs)
const idleCpu = {
  airlockMsPerSecond: (((await airlock.server.cpuMs()) - idleBefore.airlock) * 1000) / idleMs,
  bareMsPerSecond: (((await bare.cpuMs()) - idleBefore.bare) * 1000) / idleMs,
}

phase('warming up')
// Warm every server on every lane and tool (first-call loading, JIT, the EKS token, the parsers),
// the servers at once: nothing is measured while warming.
for (const scenario of scenarios) {
  for (const lane of LANES) {
    const warming = [targets.bare, targets.airlock, targets.fsync].filter((target) => target !== targets.fsync || scenario.tool === 'whoami')
    await Promise.all(
      warming.map(async (target: Target) => {
        const errors = (await sampleCalls(callsOf(target, lane, scenario, 4), { durationMs: 0, warmupMs: quick ? 150 : 500 })).errors
        if (errors > 0) throw new Error(`${target.name} ${lane} ${scenario.name}: errors while warming up`)
        const check = await target.clients[lane][0]?.callTool({ name: scenario.tool, arguments: scenario.args(0) })
        if (check === undefined || isErrorResult(check)) throw new Error(`${target.name} ${lane} ${scenario.name} fails: ${JSON.stringify(check).slice(0, 500)}`)
      }),
    )
  }
}

phase('measuring')
const cells: CellResult[] = []
for (const scenario of scenarios) {
  for (const lane of LANES) {
    for (const concurrency of LEVELS) {
      const variants = scenario.tool === 'whoami' ? [targets.bare, targets.airlock, targets.fsync] : [targets.bare, targets.airlock]
      const [base, ...measured] = await interleaved(variants, lane, scenario, concurrency)
      if (base === undefined) throw new TypeError('missing baseline')
      cells.push({ tool: scenario.name, lane, concurrency, bare: base, airlock: measured })
    }
  }
}

// Per-stage costs: the write gateway and the bare server, each profiled per tool and lane at 16
// clients after the runs above. The sampler charges wall time to whatever runs when it fires, so on
// a machine short of CPU it also counts time a process waited to be scheduled: each stage is
// reported as its share of the samples times the CPU time the process really used over the
// profile (process.cpuUsage).
phase('profiling')
async function profileOf(server: ServerProcess, calls: readonly Call[]): Promise<StageCosts> {
  server.child.kill('SIGHUP')
  await sleep(100)
  const cpuBefore = await server.cpuMs()
  const sample = await sampleCalls(calls, { durationMs: settings.profileMs, warmupMs: 0 })
  const cpuMs = (await server.cpuMs()) - cpuBefore
  const file = await server.ask('SIGHUP', 'PROFILE ')
  const { busyMs, stages, otherTop } = await profileStages(file.trim())
  const profiled = sample.latencies.length
  const scale = busyMs > 0 ? cpuMs / busyMs : 0
  return {
    calls: profiled,
    cpuMicrosPerCall: (cpuMs * 1000) / profiled,
    sampledMicrosPerCall: (busyMs * 1000) / profiled,
    stagesMicrosPerCall: Object.fromEntries(STAGES.map((s) => [s, (stages[s] * scale * 1000) / profiled])),
    stageShares: Object.fromEntries(STAGES.map((s) => [s, busyMs > 0 ? stages[s] / busyMs : 0])),
    otherTop,
  }
}
const profiles: StageSummary[] = []
for (const scenario of scenarios) {
  for (const lane of LANES) {
    const gateway = await profileOf(airlock.server, callsOf(targets.airlock, lane, scenario, PROFILE_CLIENTS))
    const baseline = await profileOf(bare, callsOf(targets.bare, lane, scenario, PROFILE_CLIENTS))
    profiles.push({ tool: scenario.name, lane, ...gateway, bare: baseline, floor: floorOf(gateway, baseline) })
  }
}
phase('guard costs on their own (the SQL probe inside PostgreSQL)')
// Before the backends close: the probe resolves the scenarios' own table.
const guardFloors = await measureGuardFloors(scenarios, settings.microMs)
phase('in-process decision costs')

for (const target of Object.values(targets)) for (const lane of LANES) await Promise.all(target.clients[lane].map((c) => c.close()))
await airlock.stop()
await airlockFsync.stop()
await bare.stop()
await backends.close()
// BENCH_KEEP_PROFILE=1 keeps the .cpuprofile files (one per tool and lane, in run order) for a closer look.
if (process.env.BENCH_KEEP_PROFILE === '1') phase(`profiles kept in ${profileDir}`)
else await rm(profileDir, { recursive: true, force: true })

const micro = await measureMicroCosts(settings.microMs)
const results: BenchResults = {
  generatedAt: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  settings: { ...settings, levels: LEVELS, bare2025: process.env.BENCH_BARE_2025 === 'per-request' ? 'server per request' : 'server per session' },
  node: process.version,
  cells: cells.map((cell) => ({ ...cell, vsBare: cell.airlock.map((v) => ({ server: v.server, ...comparison(cell, v), gatewayCpuPerCallMs: v.serverCpuPerCallMs })) })),
  profiles,
  profileClients: PROFILE_CLIENTS,
  micro,
  idleCpu,
  guardFloors,
  targets: checkTargets(cells, micro, profiles, guardFloors),
  elapsedSeconds: (performance.now() - started) / 1000,
}
const out = fileURLToPath(new URL('./results/', import.meta.url))
await mkdir(out, { recursive: true })
await writeFile(join(out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`)
printResults(results)
printTargets(results.targets)
