import { STAGES, type Stage } from './profile-stages.js'

/** One server's profile over a run of calls, per call. */
export interface StageCosts {
  readonly calls: number
  /** Process CPU (user + system, all threads) per call while profiled, in µs. */
  readonly cpuMicrosPerCall: number
  /** What the sampler saw per call (idle excluded); above cpuMicrosPerCall when the process waited for a CPU. */
  readonly sampledMicrosPerCall: number
  /** Each stage's share of the samples times cpuMicrosPerCall. */
  readonly stagesMicrosPerCall: Record<string, number>
  readonly stageShares: Record<string, number>
  /** The code charged to `other` most (ms sampled). */
  readonly otherTop: readonly (readonly [string, number])[]
}

/**
 * The stages that are Airlock's own work: token, session store, policy, limits, guard, masking,
 * audit and call pipeline. The bare server runs little of their code (a tool such as whoami reads
 * the policy module; the 2026 baseline builds its tools per request); what it does run there is
 * taken off the gateway's. The rest (MCP framing, HTTP, the tool and its AWS client, Node, GC) is
 * work both servers do.
 */
const SHARED_STAGES: ReadonlySet<Stage> = new Set(['MCP framing', 'HTTP handling', 'tool + AWS/k8s client', 'node runtime (http, net, timers)', 'GC', 'other'])
export const AIRLOCK_STAGES: readonly Stage[] = STAGES.filter((stage) => !SHARED_STAGES.has(stage))

export interface StageFloor {
  /** Gateway CPU per call in Airlock's own stages beyond the bare server's in the same stages, in µs. */
  readonly airlockMicros: number
  /** Gateway CPU per call in the work both do beyond the bare server's, in µs. */
  readonly sharedExcessMicros: number
  /**
   * The best calls/s ratio the gateway could reach where its CPU is what limits throughput (a
   * replica at capacity), even if the work both servers do cost it no more than it costs the bare
   * server: bare CPU / (bare CPU + Airlock's own stages). A run whose clients share the machine's
   * cores may measure above it (neither server is then the bottleneck); at capacity, a ratio
   * target above it cannot be met without dropping work of Airlock's own stages.
   */
  readonly ceilingRatio: number
  /**
   * What Airlock's own stages may cost per call, in µs, for the gateway to reach the 0.9 ratio
   * target at capacity: bare CPU × (1 / 0.9 − 1). A single stage above it (the audit record every
   * call must have, say) puts the target out of reach whatever the others cost.
   */
  readonly budgetAt90Micros: number
}

/** What the two profiles of the same calls say about the gateway's floor. */
export function floorOf(gateway: StageCosts, bare: StageCosts): StageFloor {
  const stage = (costs: StageCosts, name: Stage) => costs.stagesMicrosPerCall[name] ?? 0
  const added = (names: readonly Stage[]) => names.reduce((sum, name) => sum + stage(gateway, name) - stage(bare, name), 0)
  const airlockMicros = added(AIRLOCK_STAGES)
  return {
    airlockMicros,
    sharedExcessMicros: added(STAGES.filter((name) => SHARED_STAGES.has(name))),
    ceilingRatio: bare.cpuMicrosPerCall / (bare.cpuMicrosPerCall + airlockMicros),
    budgetAt90Micros: bare.cpuMicrosPerCall * (1 / 0.9 - 1),
  }
}
