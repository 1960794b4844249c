// npx tsx bench/sql-roundtrips.ts: wall time and gateway-side CPU per read-only sql_query point
// lookup on PostgreSQL, the whole tool handler (guard, probe, Data API calls) with the real SDK
// client, against the Data API emulator running in a child process over the real PostgreSQL.
// The CPU figure is this process's alone (tool + SDK client), the emulator's is printed apart.
// `-- --direct`: runStatement alone (the guard's check and its probe computed once, outside the loop).
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { createAwsClients } from '../src/cli/create-aws-clients.js'
import { systemClock } from '../src/clock.js'
import { checkSql } from '../src/guard/sql/check-sql.js'
import { KEY, PG_CLUSTER, PG_RO_SECRET, pgConnWithReader, principal, readOnly, type Args } from '../test/tools/support/sql-query-harness.js'
import { createPgTable } from '../test/tools/support/sql-test-databases.js'
import { createToolDeps } from '../tools/create-tool-deps.js'
import type { ToolContext } from '../tools/define-tool.js'
import sqlQuery from '../tools/sql-query.js'
import { runStatement } from '../tools/sql-query/run-statement.js'
import { spawnServer } from './lib/spawn-server.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const CALLS = Number(process.env.CALLS ?? 300)
const WARMUP = 100
const ROUNDS = 3
const DIRECT = process.argv.includes('--direct')

const table = `airlock_bench_${randomBytes(4).toString('hex')}`
const db = await createPgTable(table)
const emulator = await spawnServer(fileURLToPath(new URL('./servers/rds-data-server.ts', import.meta.url)))
try {
  const aws = createAwsClients({ credentials: async () => KEY, endpoints: { rdsData: emulator.url } })
  const deps = createToolDeps({ aws, clock: systemClock })
  const sql = `SELECT id, owner, balance, active FROM ${table} WHERE id = :id`
  const ctx = (id: number): ToolContext<Args, 'rds-data'> => ({
    principal,
    grant: readOnly,
    connection: pgConnWithReader,
    args: { sql, parameters: { id } },
    deps,
    signal: new AbortController().signal,
    progress: async () => undefined,
    activations: async () => new Map(),
    policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'bench' },
  })
  const { builtinProbe } = await checkSql({ engine: 'postgres', sql, mode: 'read-only' })
  const client = aws.rdsData({ region: 'eu-west-1', principal })
  const call = DIRECT
    ? async (i: number) => {
        const { output } = await runStatement({
          client,
          engine: 'postgres',
          mode: 'read-only',
          resourceArn: PG_CLUSTER,
          secretArn: PG_RO_SECRET,
          database: 'test',
          sql,
          parameters: [{ name: 'id', value: { longValue: (i % 5) + 1 } }],
          timeoutMs: 30_000,
          clock: systemClock,
          signal: new AbortController().signal,
          progress: () => undefined,
          ...(builtinProbe === undefined ? {} : { builtinProbe }),
        })
        if (output.records?.length !== 1) throw new Error(`unexpected result: ${JSON.stringify(output.records)}`)
      }
    : async (i: number) => {
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
