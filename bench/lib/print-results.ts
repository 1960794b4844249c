import type { Lane } from './lane-clients.js'
import type { GuardFloor } from './guard-floors.js'
import type { LoadResult } from './load.js'
import type { MicroCosts } from './micro-costs.js'
import { STAGES } from './profile-stages.js'
import type { StageCosts, StageFloor } from './stage-floor.js'

export interface VariantResult extends LoadResult {
  readonly server: string
  /** CPU time of the server process per call (user + system, warm-up calls included), in ms. */
  readonly serverCpuPerCallMs: number
  /** p50 of each round's slice, in ms: how far the same server moves between rounds of one run. */
  readonly p50PerRoundMs?: readonly number[]
  /** The gateways' audit group commits over the run (from its metrics, warm-up included). */
  readonly auditCommits?: { readonly recordsPerCommit: number; readonly meanCommitMs: number }
}

export interface CellResult {
  readonly tool: string
  readonly lane: Lane
  readonly concurrency: number
  readonly bare: VariantResult
  /** Gateway variants (audit write; for whoami also audit fsync), measured alternately with `bare`. */
  readonly airlock: readonly VariantResult[]
}

/** The gateway's profile for one tool and lane, with the bare server's over the same calls. */
export interface StageSummary extends StageCosts {
  readonly tool: string
  readonly lane: Lane
  readonly bare: StageCosts
  readonly floor: StageFloor
}

export interface BenchResults {
  readonly generatedAt: string
  readonly mode: 'quick' | 'full'
  readonly settings: Record<string, unknown>
  readonly node: string
  readonly cells: readonly CellResult[]
  readonly profiles: readonly StageSummary[]
  /** Clients driving the gateway while it was profiled. */
  readonly profileClients: number
  readonly micro: MicroCosts
  /** Server CPU with the clients connected and no call in flight, ms per second. */
  readonly idleCpu: { readonly airlockMsPerSecond: number; readonly bareMsPerSecond: number }
  /** The guards' own cost per call, for the tools they guard. */
  readonly guardFloors: readonly GuardFloor[]
  readonly targets: readonly TargetCheck[]
  readonly elapsedSeconds: number
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')

/** Ratio, added latency and added CPU of a gateway variant over the bare server of the same cell. */
export function comparison(cell: CellResult, variant: VariantResult) {
  return {
    ratio: variant.throughput / cell.bare.throughput,
    addedP50Ms: variant.p50 - cell.bare.p50,
    addedP99Ms: variant.p99 - cell.bare.p99,
    addedCpuPerCallMs: variant.serverCpuPerCallMs - cell.bare.serverCpuPerCallMs,
  }
}

export function printResults(results: BenchResults): void {
  console.log(`\nAirlock vs a bare MCP SDK server running the same tool code, ${results.mode} run (${fmt(results.elapsedSeconds, 0)} s), Node ${results.node}`)
  console.log('cpu = server process CPU per call (ms); ratio, +p50, +p99, +cpu are against the bare row above')
  console.log(`bare server on the 2025 lane: ${String(results.settings['bare2025'] ?? 'server per session')} (BENCH_BARE_2025=per-request for the other)\n`)
  console.log('tool                lane  conc  server                   calls/s  p50 ms  p99 ms  cpu ms  ratio  +p50 ms  +p99 ms  +cpu ms  errors')
  for (const cell of results.cells) {
    const head = `${cell.tool.padEnd(19)} ${cell.lane}  ${String(cell.concurrency).padStart(4)}`
    const row = (v: VariantResult) => `${v.server.padEnd(23)} ${fmt(v.throughput, 0).padStart(8)} ${fmt(v.p50).padStart(7)} ${fmt(v.p99).padStart(7)} ${fmt(v.serverCpuPerCallMs, 3).padStart(7)}`
    console.log(`${head}  ${row(cell.bare)}${''.padStart(33)} ${String(cell.bare.errors).padStart(7)}`)
    for (const v of cell.airlock) {
      const c = comparison(cell, v)
      console.log(`${''.padEnd(head.length)}  ${row(v)} ${fmt(c.ratio).padStart(6)} ${fmt(c.addedP50Ms).padStart(8)} ${fmt(c.addedP99Ms).padStart(8)} ${fmt(c.addedCpuPerCallMs, 3).padStart(8)} ${String(v.errors).padStart(7)}`)
    }
  }

  // What durability costs: a call waits for the commit that carries its record (and, arriving
  // while one is in flight, for that one first); the mean commit time is the disk's, from the
  // gateway's own audit metrics.
  console.log('\naudit group commits (whoami): records per commit, mean commit ms (write, then flush until durable)')
  for (const cell of results.cells.filter((c) => c.tool === 'whoami')) {
    const each = cell.airlock.map((v) => `${v.server}: ${fmt(v.auditCommits?.recordsPerCommit ?? Number.NaN, 1)} per commit, ${fmt(v.auditCommits?.meanCommitMs ?? Number.NaN, 3)} ms`)
    console.log(`${cell.lane} x${String(cell.concurrency).padEnd(3)} ${each.join('   ')}`)
  }

  console.log(`\nCPU per call by stage, gateway / bare server (µs: share of profile samples x process CPU per call; ${results.profileClients} clients, audit write)`)
  const shown = STAGES.filter((s) => results.profiles.some((p) => (p.stagesMicrosPerCall[s] ?? 0) >= 1 || (p.bare.stagesMicrosPerCall[s] ?? 0) >= 1))
  const pair = (gateway: number, bare: number) => `${fmt(gateway, 0)} / ${fmt(bare, 0)}`.padStart(19)
  const line = (label: string, cell: (p: StageSummary) => string) => console.log(`${label.padEnd(34)}${results.profiles.map(cell).join('')}`)
  line('stage', (p) => `${p.tool.slice(0, 13)} ${p.lane}`.padStart(19))
  for (const stage of shown) line(stage, (p) => pair(p.stagesMicrosPerCall[stage] ?? 0, p.bare.stagesMicrosPerCall[stage] ?? 0))
  line('process CPU per call', (p) => pair(p.cpuMicrosPerCall, p.bare.cpuMicrosPerCall))
  line('sampled per call (incl. waiting)', (p) => pair(p.sampledMicrosPerCall, p.bare.sampledMicrosPerCall))
  line("Airlock's own stages", (p) => fmt(p.floor.airlockMicros, 0).padStart(19))
  line('shared work beyond the bare server', (p) => fmt(p.floor.sharedExcessMicros, 0).padStart(19))
  line('ratio ceiling when CPU-bound', (p) => fmt(p.floor.ceilingRatio, 2).padStart(19))
  line('own-stage budget for a 0.9 ratio', (p) => fmt(p.floor.budgetAt90Micros, 0).padStart(19))

  const m = results.micro
  console.log('\nin-process, warm, µs per request: median of 20 batches (quietest)')
  console.log(`token verification ${fmt(m.verifyMicros, 1)}, session lookup ${fmt(m.sessionMicros, 1)}, policy decision (500 grants) ${fmt(m.policyMicros, 1)}`)
  console.log(`all three together ${fmt(m.verifySessionPolicyMicros, 1)} (${fmt(m.verifySessionPolicyBestMicros, 1)})   target <= 50`)
  console.log(`tools/list for a policy of 500 grants ${fmt(m.toolsList500GrantsMicros, 1)} (${fmt(m.toolsList500GrantsBestMicros, 1)})   target <= 1000`)
  console.log(`idle, clients connected: gateway ${fmt(results.idleCpu.airlockMsPerSecond, 1)} ms CPU per second, bare server ${fmt(results.idleCpu.bareMsPerSecond, 1)}`)
  if (results.guardFloors.length === 0) return
  console.log('\nguards on their own, per call: the check in-process (warm, µs) and the SQL catalog probe inside PostgreSQL (ms, medians)')
  for (const g of results.guardFloors) {
    const probe = g.probe === undefined ? '' : `, probe planning ${fmt(g.probe.planningMs, 3)} ms + execution ${fmt(g.probe.executionMs, 3)} ms`
    console.log(`${g.scenario.padEnd(20)} guard ${fmt(g.guardMicros, 0)} µs${probe}: ${fmt(guardFloorMs(g), 3)} ms`)
  }
}

/** What a guard alone adds to one call's latency, in ms: its check plus, for SQL, the probe in the database. */
export function guardFloorMs(floor: GuardFloor): number {
  return floor.guardMicros / 1000 + (floor.probe === undefined ? 0 : floor.probe.planningMs + floor.probe.executionMs)
}

export interface TargetCheck {
  readonly target: string
  readonly value: number
  readonly limit: number
  readonly met: boolean
  /**
   * For absolute costs: what the bare server spent on the same cell, which the gateway, running
   * the same tool code over the same SDK clients, cannot go below.
   */
  readonly bareFloor?: number
  /**
   * For calls/s ratios: the ceiling the profiles of both servers set (see StageFloor.ceilingRatio),
   * from the tool and lane's profile at the profiling concurrency.
   */
  readonly ceilingRatio?: number
  /** For added latency: what the tool's guard alone takes per call (see guardFloorMs), part of what is added. */
  readonly guardFloorMs?: number
  /**
   * For added latency: how far the bare server's own p50 moved between the rounds of the run (max
   * minus min), in ms; an added p50 within it is not told apart from the run's noise.
   */
  readonly bareP50SpreadMs?: number
}

/** Max minus min of a server's per-round p50, or undefined with fewer than two rounds. */
export function p50Spread(variant: VariantResult): number | undefined {
  const rounds = variant.p50PerRoundMs ?? []
  return rounds.length < 2 ? undefined : Math.max(...rounds) - Math.min(...rounds)
}

/** The targets, checked against this run (ratios and differences within the run). */
export function checkTargets(cells: readonly CellResult[], micro: MicroCosts, profiles: readonly StageSummary[], guards: readonly GuardFloor[] = []): TargetCheck[] {
  const checks: TargetCheck[] = []
  const spreadOf = (cell: CellResult) => {
    const spread = p50Spread(cell.bare)
    return spread === undefined ? {} : { bareP50SpreadMs: spread }
  }
  const add = (target: string, value: number, limit: number, atLeast: boolean, floor: Pick<TargetCheck, 'bareFloor' | 'ceilingRatio' | 'guardFloorMs' | 'bareP50SpreadMs'> = {}) =>
    checks.push({ target, value, limit, met: atLeast ? value >= limit : value <= limit, ...floor })
  for (const cell of cells) {
    for (const v of cell.airlock) {
      const c = comparison(cell, v)
      const where = `${cell.tool} ${cell.lane} x${cell.concurrency} ${v.server}`
      if (cell.tool === 'whoami') {
        const ceilingRatio = profiles.find((p) => p.tool === cell.tool && p.lane === cell.lane)?.floor.ceilingRatio
        if (v.server.includes('write') || cell.concurrency > 1) add(`${where}: calls/s ratio`, c.ratio, 0.9, true, ceilingRatio === undefined ? {} : { ceilingRatio })
        if (v.server.includes('write') && cell.concurrency === 1) add(`${where}: added p50 ms`, c.addedP50Ms, 0.3, false, spreadOf(cell))
      } else if (v.server.includes('write')) {
        const guard = guards.find((g) => g.scenario === cell.tool)
        if (cell.concurrency === 1) add(`${where}: added p50 ms`, c.addedP50Ms, 0.5, false, { ...spreadOf(cell), ...(guard === undefined ? {} : { guardFloorMs: guardFloorMs(guard) }) })
        if (cell.tool.startsWith('sql_query') || cell.tool.startsWith('kubectl')) {
          add(`${where}: gateway CPU ms per call`, v.serverCpuPerCallMs, 1, false, { bareFloor: cell.bare.serverCpuPerCallMs })
          // The part of it the gateway controls: what it spends beyond the same tool code on its own.
          add(`${where}: added CPU ms per call`, c.addedCpuPerCallMs, 1, false)
        }
      }
    }
  }
  add('token verification + session lookup + policy decision, µs (in-process, warm)', micro.verifySessionPolicyMicros, 50, false)
  add('tools/list with 500 grants, µs (in-process, warm)', micro.toolsList500GrantsMicros, 1000, false)
  return checks
}

export function printTargets(checks: readonly TargetCheck[]): void {
  console.log('\ntargets')
  for (const c of checks) {
    const floor =
      (c.bareFloor === undefined ? '' : `; bare server, same tool: ${fmt(c.bareFloor, 3)}`) +
      (c.ceilingRatio === undefined ? '' : `; ceiling when CPU-bound, from the profiles: ${fmt(c.ceilingRatio, 3)}`) +
      (c.guardFloorMs === undefined ? '' : `; of it the guard alone: ${fmt(c.guardFloorMs, 3)}`) +
      (c.bareP50SpreadMs === undefined ? '' : `; bare p50 moved ${fmt(c.bareP50SpreadMs, 3)} between rounds`)
    console.log(`${c.met ? 'met ' : 'MISS'}  ${c.target}: ${fmt(c.value, 3)} (limit ${c.limit}${floor})`)
  }
}
