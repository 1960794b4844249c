// tsx bench/audit-commit.ts: audit commit latency, file (fdatasync) vs PostgreSQL (COMMIT), in one process.
// Each sink takes BENCH_AUDIT_WRITES (500) awaited writes one after another (one record per commit),
// then the same number from 16 concurrent writers (group commit), and for PostgreSQL from two sinks
// ("replicas") on one chain. Needs the machine's PostgreSQL (BENCH_PG_URL); uses and drops a scratch schema.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openAuditLog } from '../src/audit/audit-log.js'
import type { AuditEvent } from '../src/audit/audit-event.js'
import type { AuditTrail } from '../src/audit/audit-trail.js'
import { openPostgresAudit } from '../src/audit/open-postgres-audit.js'
import { createAuditPool } from '../src/cli/create-audit-pool.js'
import { systemClock } from '../src/clock.js'

const WRITES = Number(process.env.BENCH_AUDIT_WRITES ?? 500)
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const event = (i: number): AuditEvent => ({
  type: 'tools.call',
  actor: { iss: 'https://idp.example.com', sub: `agent-${i % 16}`, groups: ['sre'] },
  tool: 'sql_query',
  connection: 'orders',
  grantId: 'dba-read',
  decision: 'allow',
  outcome: 'ok',
  args: { sql: 'SELECT id, owner FROM accounts WHERE id = $1' },
  durationMs: 12,
  resultBytes: 512,
  correlationId: randomBytes(6).toString('hex'),
})

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

interface Row {
  readonly sink: string
  readonly mode: string
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly perSecond: number
}

/** Latency of each write (ms) with `writers` concurrent writers spread over `sinks`, WRITES writes in all. */
async function measure(name: string, sinks: readonly AuditTrail[], writers: number): Promise<Row> {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const sink = sinks[w % sinks.length]
      if (sink === undefined) throw new TypeError('no sink')
      while (next < WRITES) {
        const i = next++
        const t0 = performance.now()
        await sink.write(event(i))
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const mode = `${writers} writer${writers > 1 ? 's' : ''}${sinks.length > 1 ? `, ${sinks.length} replicas` : ''}`
  return { sink: name, mode, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), perSecond: WRITES / seconds }
}

const rows: Row[] = []
const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-audit-'))
const schema = `bench_audit_${randomBytes(4).toString('hex')}`
const admin = new pg.Client({ connectionString: PG_URL })
await admin.connect()
await admin.query(`CREATE SCHEMA ${schema}`)
const pools: pg.Pool[] = []
try {
  for (const durability of ['fsync', 'write'] as const) {
    const log = await openAuditLog({ path: join(dir, `${durability}.jsonl`), clock: systemClock, durability })
    await measure('warm-up', [log], 1)
    rows.push(await measure(`file (${durability === 'fsync' ? 'fdatasync' : 'write only'})`, [log], 1))
    rows.push(await measure(`file (${durability === 'fsync' ? 'fdatasync' : 'write only'})`, [log], 16))
    await log.close()
  }
  const openSink = async (): Promise<AuditTrail> => {
    const pool = createAuditPool({ url: PG_URL, poolSize: 4, connectTimeoutMs: 5000, statementTimeoutMs: 5000 })
    pools.push(pool)
    return openPostgresAudit({ pool, clock: systemClock, schema, table: 'bench', pingIntervalMs: 0 })
  }
  const a = await openSink()
  const b = await openSink()
  await measure('warm-up', [a], 1)
  rows.push(await measure('postgres (COMMIT)', [a], 1))
  rows.push(await measure('postgres (COMMIT)', [a], 16))
  rows.push(await measure('postgres (COMMIT)', [a, b], 2))
  rows.push(await measure('postgres (COMMIT)', [a, b], 16))
  await a.close()
  await b.close()
  const [settings] = (await admin.query<{ fsync: string; synchronous_commit: string; wal_sync_method: string }>(
    "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit, current_setting('wal_sync_method') AS wal_sync_method",
  )).rows
  console.log(`audit commit latency, ${WRITES} writes per row (PostgreSQL fsync=${settings?.fsync}, wal_sync_method=${settings?.wal_sync_method}; the sink forces synchronous_commit=on)`)
  console.log('| sink | writers | p50 ms | p95 ms | p99 ms | records/s |')
  console.log('|---|---|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.sink} | ${r.mode} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.perSecond)} |`)
} finally {
  await Promise.allSettled(pools.map((p) => p.end()))
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await admin.end()
  await rm(dir, { recursive: true, force: true })
}
