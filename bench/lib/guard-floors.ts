// What the guards cost per call on their own, measured, for the tools whose added latency they
// make up most of: the SQL guard's check in-process and its catalog probe inside PostgreSQL
// (planning and execution, from EXPLAIN ANALYZE of the read-only setup with the probe against
// the same setup without it), and the shell guard's parse. A gateway that checks every statement
// and command cannot answer faster than the bare server by less than these.
import pg from 'pg'
import { checkSql } from '../../src/guard/sql/check-sql.js'
import { tokenizeCommand } from '../../src/guard/shell/tokenize-command.js'
import { PG_URL } from '../../test/tools/support/sql-test-databases.js'
import { postgresReadOnlySetup } from '../../tools/sql-query/postgres-read-only-setup.js'
import { percentile } from './load.js'
import { timePerCall } from './time-per-call.js'
import type { Scenario } from './tool-backends.js'

export interface GuardFloor {
  /** The scenario's name (e.g. "sql_query point"). */
  readonly scenario: string
  /** The guard's check in the gateway's process, warm, µs per call (median batch). */
  readonly guardMicros: number
  /** sql_query on PostgreSQL: what the catalog probe adds to the read-only setup inside the database, ms (medians). */
  readonly probe?: { readonly planningMs: number; readonly executionMs: number }
}

const PROBE_SAMPLES = 40

const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50)

/** Planning and execution ms of `sql` in a transaction that is rolled back, medians of {@link PROBE_SAMPLES} (after 10 unmeasured). */
async function explainMedians(db: pg.Client, sql: string, parameters: readonly string[]): Promise<{ planningMs: number; executionMs: number }> {
  const planning: number[] = []
  const execution: number[] = []
  for (let i = 0; i < PROBE_SAMPLES + 10; i++) {
    await db.query('BEGIN')
    try {
      const result = await db.query<{ 'QUERY PLAN': [{ 'Planning Time': number; 'Execution Time': number }] }>(`EXPLAIN (ANALYZE, SUMMARY, TIMING OFF, FORMAT JSON) ${sql}`, [...parameters])
      const plan = result.rows[0]?.['QUERY PLAN'][0]
      if (plan === undefined) throw new TypeError('EXPLAIN returned no plan')
      if (i >= 10) {
        planning.push(plan['Planning Time'])
        execution.push(plan['Execution Time'])
      }
    } finally {
      await db.query('ROLLBACK')
    }
  }
  return { planningMs: median(planning), executionMs: median(execution) }
}

/** The read-only setup statement as PostgreSQL receives it: the Data API's `:name` placeholders as `$n`. */
function setupText(probe: Parameters<typeof postgresReadOnlySetup>[1]): { sql: string; parameters: string[] } {
  const setup = postgresReadOnlySetup(5_000, probe)
  const parameters = ['5000', ...(probe === undefined ? [] : [probe.names])]
  return { sql: setup.sql.replace(':ms', '$1').replace(':names', '$2'), parameters }
}

export async function measureGuardFloors(scenarios: readonly Scenario[], minMs: number): Promise<GuardFloor[]> {
  const floors: GuardFloor[] = []
  const db = new pg.Client({ connectionString: PG_URL })
  await db.connect()
  // The setup without a probe is the same for every statement: measured once, when first needed.
  let withoutProbe: { planningMs: number; executionMs: number } | undefined
  try {
    for (const scenario of scenarios) {
      const args = scenario.args(0)
      if (scenario.tool === 'sql_query') {
        const request = { engine: 'postgres' as const, sql: String(args.sql), mode: 'read-only' as const, maskedColumns: [], allowSystemCatalogs: false }
        const guard = await timePerCall(() => checkSql(request), minMs)
        const probe = (await checkSql(request)).builtinProbe
        if (probe === undefined) {
          floors.push({ scenario: scenario.name, guardMicros: guard.medianMicros })
          continue
        }
        const without = setupText(undefined)
        withoutProbe ??= await explainMedians(db, without.sql, without.parameters)
        const withProbe = setupText(probe)
        const probed = await explainMedians(db, withProbe.sql, withProbe.parameters)
        floors.push({
          scenario: scenario.name,
          guardMicros: guard.medianMicros,
          probe: { planningMs: probed.planningMs - withoutProbe.planningMs, executionMs: probed.executionMs - withoutProbe.executionMs },
        })
      } else if (scenario.tool === 'ssm_run') {
        const command = String(args.command)
        floors.push({ scenario: scenario.name, guardMicros: (await timePerCall(() => tokenizeCommand(command), minMs)).medianMicros })
      }
    }
  } finally {
    await db.end()
  }
  return floors
}
