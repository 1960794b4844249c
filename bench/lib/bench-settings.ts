export interface BenchSettings {
  /** Recorded time per run. */
  readonly durationMs: number
  /** Unrecorded time before each run. */
  readonly warmupMs: number
  /** Concurrent clients per run. */
  readonly levels: readonly number[]
  /** Each run is split into this many slices, alternated with the other variants. */
  readonly rounds: number
  readonly durability: 'fsync' | 'write'
  /** BENCH_CPU_PROFILE: profile the gateway process into this directory and print its top costs. */
  readonly cpuProfileDir?: string
}

/** Reads BENCH_DURATION_MS, BENCH_WARMUP_MS, BENCH_CONCURRENCY, BENCH_ROUNDS, BENCH_DURABILITY, BENCH_CPU_PROFILE. */
export function benchSettings(defaults: { readonly levels: string; readonly durationMs?: number }): BenchSettings {
  const env = process.env
  const durability = env.BENCH_DURABILITY === 'write' ? 'write' : 'fsync'
  const profile = env.BENCH_CPU_PROFILE
  return {
    durationMs: Number(env.BENCH_DURATION_MS ?? defaults.durationMs ?? 5000),
    warmupMs: Number(env.BENCH_WARMUP_MS ?? 1000),
    levels: (env.BENCH_CONCURRENCY ?? defaults.levels).split(',').map(Number),
    rounds: Math.max(1, Number(env.BENCH_ROUNDS ?? 4)),
    durability,
    ...(profile === undefined || profile === '' ? {} : { cpuProfileDir: profile }),
  }
}
