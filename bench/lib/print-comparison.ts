import type { LoadResult } from './load.js'

const fmt = (n: number, digits = 2) => n.toFixed(digits)

/**
 * Prints baseline and measured runs side by side: throughput ratio, added p50/p99, and CPU per
 * call of the bench processes (load generator with the emulators, plus the gateway where it ran).
 */
export function printComparison(title: string, rows: readonly { readonly label: string; readonly baseline: LoadResult; readonly measured: readonly [string, LoadResult][] }[]): void {
  console.log(`\n${title}\n`)
  console.log('run                          conc   calls/s  p50 ms  p99 ms  ratio  +p50 ms  +p99 ms  errors  cpu ms/call  +cpu ms')
  const line = (name: string, r: LoadResult, base?: LoadResult) =>
    console.log(
      `${name.padEnd(27)} ${String(r.concurrency).padStart(5)} ${fmt(r.throughput, 0).padStart(9)} ${fmt(r.p50).padStart(7)} ${fmt(r.p99).padStart(7)}` +
        (base === undefined
          ? `${''.padStart(32)} ${String(r.errors).padStart(7)} ${fmt(r.cpuPerCallMs).padStart(12)}`
          : ` ${fmt(r.throughput / base.throughput).padStart(6)} ${fmt(r.p50 - base.p50).padStart(8)} ${fmt(r.p99 - base.p99).padStart(8)} ${String(r.errors).padStart(7)}` +
            ` ${fmt(r.cpuPerCallMs).padStart(12)} ${fmt(r.cpuPerCallMs - base.cpuPerCallMs).padStart(8)}`),
    )
  for (const row of rows) {
    line(row.label, row.baseline)
    for (const [name, result] of row.measured) line(name, result, row.baseline)
  }
}
