// npx tsx bench/sql-roundtrips.ts: wall time and gateway-side CPU per read-only sql_query point
// lookup on PostgreSQL, the whole tool handler (guard, probe, Data API calls) with the real SDK
// client, against the Data API emulator running in a child process over the real PostgreSQL.
// The CPU figure is this process's alone (tool + SDK client), the emulator's is printed apart.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { createAwsClients } from '../src/cli/create-aws-clients.js'
import { systemClock } from '../src/clock.js'
import { KEY, pgConnWithReader, principal, readOnly, type Args } from '../test/tools/support/sql-query-harness.js'
import { createPgTable } from '../test/tools/support/sql-test-databases.js'
import { createToolDeps } from '../tools/create-tool-deps.js'
import type { ToolContext } from '../tools/define-tool.js'
import sqlQuery from '../tools/sql-query.js'
import { spawnServer } from './lib/spawn-server.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const CALLS = Number(process.env.CALLS ?? 300)
const WARMUP = 100
const ROUNDS = 3

const table = `airlock_bench_${randomBytes(4).toString('hex')}`
const db = await createPgTable(table)
const emulator = await spawnServer(fileURLToPath(new URL('./servers/rds-data-server.ts', import.meta.url)))
try {
  const aws = createAwsClients({ credentials: async () => KEY, endpoints: { rdsData: emulator.url } })
  const deps = createToolDeps({ aws, clock: systemClock })
  const ctx = (id: number): ToolContext<Args, 'rds-data'> => ({
    principal,
    grant: readOnly,
    connection: pgConnWithReader,
    args: { sql: `SELECT id, owner, balance, active FROM ${table} WHERE id = :id`, parameters: { id } },
    deps,
    signal: new AbortController().signal,
    progress: async () => undefined,
    activations: async () => new Map(),
    policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'bench' },
  })
  const call = async (i: number) => {
    const result = await sqlQuery.handler(ctx((i % 5) + 1))
    if (result.structured?.['rowCount'] !== 1) throw new Error(`unexpected result: ${JSON.stringify(result.structured)}`)
  }
  for (let i = 0; i < WARMUP; i++) await call(i)
  const rounds: { wallMs: number; cpuMs: number; emulatorCpuMs: number }[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const emulatorBefore = await emulator.cpuMs()
    const cpuBefore = process.cpuUsage()
    const start = performance.now()
    for (let i = 0; i < CALLS; i++) await call(i)
    const wallMs = (performance.now() - start) / CALLS
    const cpu = process.cpuUsage(cpuBefore)
    const emulatorCpuMs = ((await emulator.cpuMs()) - emulatorBefore) / CALLS
    rounds.push({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000 / CALLS, emulatorCpuMs })
    console.log(`round ${r + 1}: ${CALLS} calls, wall ${wallMs.toFixed(3)} ms/call, gateway CPU ${rounds.at(-1)?.cpuMs.toFixed(3)} ms/call, emulator CPU ${emulatorCpuMs.toFixed(3)} ms/call`)
  }
  const median = (pick: (r: (typeof rounds)[number]) => number) => rounds.map(pick).sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] ?? Number.NaN
  console.log(`median of ${ROUNDS}: wall ${median((r) => r.wallMs).toFixed(3)} ms/call, gateway CPU ${median((r) => r.cpuMs).toFixed(3)} ms/call, emulator CPU ${median((r) => r.emulatorCpuMs).toFixed(3)} ms/call`)
} finally {
  await emulator.stop()
  await db.drop()
}
