// npm run bench:sql: sql_query through the gateway vs the same Data API calls made directly, and guard parse cost.
import { randomBytes } from 'node:crypto'
import { ExecuteStatementCommand } from '@aws-sdk/client-rds-data'
import { createAwsClients } from '../src/cli/create-aws-clients.js'
import { systemClock } from '../src/clock.js'
import { checkSql } from '../src/guard/sql/check-sql.js'
import { createPgBackend } from '../src/sandbox/rds-data/pg-backend.js'
import { startRdsDataEmulator } from '../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../src/sandbox/sigv4/credential-store.js'
import { createTrail } from '../src/sandbox/trail.js'
import { GATEWAY, KEY, PG_CLUSTER, PG_RO_SECRET, PG_SECRET } from '../test/tools/support/sql-query-harness.js'
import { createPgTable, PG_URL } from '../test/tools/support/sql-test-databases.js'
import { runStatement } from '../tools/sql-query/run-statement.js'
import { startBenchGateway, withGatewayCpu } from './lib/bench-gateway.js'
import { connectMcp, interleave, sampleCalls, type Call, type LoadResult } from './lib/load.js'
import { printComparison } from './lib/print-comparison.js'
import { printCpuProfile } from './lib/print-cpu-profile.js'
import { timePerCall } from './lib/time-per-call.js'
import { benchSettings } from './lib/bench-settings.js'

// The SDK's notice about future Node versions is noise in benchmark output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const settings = benchSettings({ levels: '1,16' })
const REGION = 'eu-west-1'
const table = `airlock_bench_${randomBytes(4).toString('hex')}`
const SQL = `SELECT id, owner, balance, active FROM ${table} WHERE id = :id`
const argsFor = (worker: number) => ({ id: (worker % 5) + 1 })

// Guard cost first, on a quiet process: mean µs per statement, both engines.
const TYPICAL: readonly [string, { postgres: string; mysql: string }][] = [
  ['point lookup', { postgres: SQL, mysql: SQL }],
  [
    'aggregate',
    {
      postgres: "SELECT status, count(*), sum(total) FROM orders WHERE created_at > now() - interval '7 days' GROUP BY status ORDER BY 2 DESC",
      mysql: 'SELECT status, count(*), sum(total) FROM orders WHERE created_at > now() - INTERVAL 7 DAY GROUP BY status ORDER BY 2 DESC',
    },
  ],
  [
    'join + limit',
    {
      postgres: 'SELECT c.name, o.id, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.status = :status ORDER BY o.total DESC LIMIT 20',
      mysql: 'SELECT c.name, o.id, o.total FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.status = :status ORDER BY o.total DESC LIMIT 20',
    },
  ],
  [
    'CTE + subquery',
    {
      postgres: 'WITH recent AS (SELECT customer_id, max(created_at) AS last FROM orders GROUP BY customer_id) SELECT c.email, r.last FROM customers c JOIN recent r ON r.customer_id = c.id WHERE c.id IN (SELECT customer_id FROM orders WHERE total > 100)',
      mysql: 'WITH recent AS (SELECT customer_id, max(created_at) AS last FROM orders GROUP BY customer_id) SELECT c.email, r.last FROM customers c JOIN recent r ON r.customer_id = c.id WHERE c.id IN (SELECT customer_id FROM orders WHERE total > 100)',
    },
  ],
]
console.log('\ncheckSql (read-only), µs per statement, in-process, warmed up: median of 20 batches (quietest batch)')
console.log('statement                postgres             mysql')
for (const [name, sql] of TYPICAL) {
  const pg = await timePerCall(() => checkSql({ engine: 'postgres', sql: sql.postgres, mode: 'read-only' }))
  const my = await timePerCall(() => checkSql({ engine: 'mysql', sql: sql.mysql, mode: 'read-only' }))
  const cell = (r: { medianMicros: number; bestMicros: number }) => `${r.medianMicros.toFixed(1).padStart(8)} (${r.bestMicros.toFixed(1).padStart(7)})`
  console.log(`${name.padEnd(17)} ${cell(pg)} ${cell(my)}`)
}

const db = await createPgTable(table)
const backend = createPgBackend({ connectionString: PG_URL, poolConfig: { max: 40 } })
const emulator = await startRdsDataEmulator({
  store: createCredentialStore([{ ...KEY, principalArn: GATEWAY }]),
  trail: createTrail(systemClock),
  clock: systemClock,
  clusters: [{ resourceArn: PG_CLUSTER, secrets: { [PG_SECRET]: { backend }, [PG_RO_SECRET]: { backend, readOnly: true } } }],
})
const policy = {
  version: 1,
  connections: {
    'bench-db': { kind: 'rds-data', region: REGION, engine: 'postgres', database: 'test', resourceArn: PG_CLUSTER, secretArn: PG_SECRET, readOnlySecretArn: PG_RO_SECRET },
  },
  grants: [{ id: 'bench-sql', groups: ['bench'], connections: ['bench-db'], tools: ['sql_query'], ttl: '12h', sql: { mode: 'read-only', maxRows: 200 } }],
}
const gateway = await startBenchGateway({
  policy,
  awsEndpoints: { rdsData: emulator.endpoint },
  awsKey: KEY,
  durability: settings.durability,
  ...(settings.cpuProfileDir === undefined ? {} : { cpuProfileDir: settings.cpuProfileDir }),
})
// The gateway's own client configuration, in this process.
const client = createAwsClients({ credentials: async () => KEY, endpoints: { rdsData: emulator.endpoint } }).rdsData({
  region: REGION,
  roleArn: undefined,
  principal: { issuer: 'bench', subject: 'bench', groups: [], expiresAt: 4_000_000_000 },
})

// Baseline 1: the tool's read-only flow without its probe (Begin, the one set-up statement, Execute, Rollback).
const directFlow = (worker: number): Call => async () => {
  await runStatement({
    client,
    engine: 'postgres',
    mode: 'read-only',
    resourceArn: PG_CLUSTER,
    secretArn: PG_RO_SECRET,
    database: 'test',
    sql: SQL,
    parameters: [{ name: 'id', value: { longValue: argsFor(worker).id } }],
    timeoutMs: 30_000,
    clock: systemClock,
    signal: new AbortController().signal,
    progress: () => {},
  })
  return true
}
// Baseline 2: one ExecuteStatement, no transaction.
const directSingle = (worker: number): Call => async () => {
  await client.send(
    new ExecuteStatementCommand({
      resourceArn: PG_CLUSTER,
      secretArn: PG_RO_SECRET,
      database: 'test',
      sql: SQL,
      parameters: [{ name: 'id', value: { longValue: argsFor(worker).id } }],
      includeResultMetadata: true,
      resultSetOptions: { decimalReturnType: 'STRING' },
    }),
  )
  return true
}

const mcpCalls = async (concurrency: number): Promise<{ calls: Call[]; close: () => Promise<void> }> => {
  const clients = await Promise.all(Array.from({ length: concurrency }, async (_, w) => connectMcp(gateway.url, await gateway.bearer(`bench-${w}`, ['bench']))))
  return {
    calls: clients.map((mcp, w) => async () => {
      const result = await mcp.callTool({ name: 'sql_query', arguments: { connection: 'bench-db', sql: SQL, parameters: argsFor(w) } })
      return result.isError !== true
    }),
    close: async () => {
      await Promise.all(clients.map((c) => c.close()))
    },
  }
}

// Warm the gateway (first-call loading, JIT) before the profile and the measured runs.
const warm = await mcpCalls(2)
await sampleCalls(warm.calls, { durationMs: 0, warmupMs: settings.warmupMs })
await warm.close()
gateway.startProfile()

const AIRLOCK = `airlock (audit ${settings.durability})`
const rows = []
for (const concurrency of settings.levels) {
  const mcp = await mcpCalls(concurrency)
  const results = await withGatewayCpu(gateway, 'airlock', () =>
    interleave(
      concurrency,
      [
        ['single', Array.from({ length: concurrency }, (_, w) => directSingle(w))],
        ['flow', Array.from({ length: concurrency }, (_, w) => directFlow(w))],
        ['airlock', mcp.calls],
      ],
      settings,
    ),
  )
  await mcp.close()
  const [single, flow, airlock] = [results.get('single'), results.get('flow'), results.get('airlock')]
  if (single === undefined || flow === undefined || airlock === undefined) throw new TypeError('missing run')
  rows.push({ label: 'direct ExecuteStatement ×1', baseline: single, measured: [[AIRLOCK, airlock]] as [string, LoadResult][] })
  rows.push({ label: 'direct read-only flow (5)', baseline: flow, measured: [[AIRLOCK, airlock]] as [string, LoadResult][] })
}
printComparison(
  `sql_query (PostgreSQL point lookup) through Airlock vs the RDSDataClient directly, ${settings.durationMs} ms per variant in ${settings.rounds} alternating slices;\n` +
    'processes: load generator + Data API emulator, gateway, PostgreSQL. ratio and +ms are against the row above.',
  rows,
)

await gateway.stop()
await emulator.close()
await backend.close()
await db.drop()
if (settings.cpuProfileDir !== undefined) await printCpuProfile(settings.cpuProfileDir)
