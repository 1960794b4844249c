import type { Field, SqlParameter } from '@aws-sdk/client-rds-data'
import { z } from 'zod'
import { UpstreamError } from '../../src/errors.js'
import { judgeBuiltinProbe, type BuiltinProbe } from '../../src/guard/sql/builtin-probe.js'

/*
 * Why one statement does what three did (SET TRANSACTION READ ONLY, the limits, the catalog probe),
 * each fact checked on PostgreSQL 15 and pinned by test/tools/sql-query/postgres-read-only-setup.test.ts:
 * - `set_config('transaction_read_only', 'on', true)` is what SET TRANSACTION READ ONLY runs
 *   (SetPGVariable with is_local, the same GUC_ACTION_LOCAL), and the server accepts turning a
 *   transaction read-only at any point; only the way back to read-write is refused once a query
 *   has run ("transaction read-write mode must be set before any query"), so the caller's
 *   statement cannot undo it. Writes after it are refused by the server (DML, DDL, nextval,
 *   FOR UPDATE, writes inside a function).
 * - A SELECT without FROM makes exactly one row and returns every target expression, so the server
 *   must evaluate each set_config (volatile: never folded away or skipped) and the probe, which is
 *   aggregated into one JSON column rather than joined in (a join of no probe rows would return no
 *   row at all, and no proof that the settings ran). The gateway still checks the values the
 *   server says it set and fails closed otherwise.
 * - Their order within the row does not matter: the probe reads only catalogs, and both
 *   statement_timeout and standard_conforming_strings take effect from the next statement, which
 *   is the caller's, as before. The probe itself holds no backslash in a literal, so it parses the
 *   same under either string setting. Unlike before, the probe is not bounded by the database's
 *   statement_timeout (it starts with the statement that sets it), only by the client's deadline.
 * - set_config answers statement_timeout in the unit the server prints it in ('50ms', '5s',
 *   '1min', '1h', '1d'), so the check converts it back to milliseconds.
 * MySQL and MariaDB cannot do the same: a begun transaction cannot be made read-only there (see
 * run-statement.ts), so they keep their statements.
 */

/** The catalog probe's rows, one JSON array per row: `[kind, name]`. */
const probeRowsSchema = z.array(z.array(z.string().nullable()))

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, min: 60_000, h: 3_600_000, d: 86_400_000 }

/** PostgreSQL's display of a millisecond setting (`1500ms`, `5s`, `1min`) in milliseconds, or undefined. */
export function parsePostgresMilliseconds(text: string | undefined): number | undefined {
  const match = /^(\d+)(ms|s|min|h|d)$/.exec(text ?? '')
  const unit = UNIT_MS[match?.[2] ?? '']
  return match === null || unit === undefined ? undefined : Number(match[1]) * unit
}

/**
 * The one statement that makes a PostgreSQL Data API transaction read-only, sets its limits and,
 * when there is a probe, runs it: one row of read_only, statement_timeout, standard_strings and
 * user_code (the probe's rows as a JSON array, `[]` without a probe).
 */
export function postgresReadOnlySetup(ms: number, probe: BuiltinProbe | undefined): { sql: string; parameters: SqlParameter[] } {
  const userCode =
    probe === undefined
      ? "CAST('[]' AS pg_catalog.json)"
      : `(SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_array(p.kind, p.name)), CAST('[]' AS pg_catalog.json)) FROM (${probe.sql}) AS p)`
  return {
    sql: [
      "SELECT pg_catalog.set_config('transaction_read_only', 'on', true) AS read_only",
      "pg_catalog.set_config('statement_timeout', :ms, true) AS statement_timeout",
      "pg_catalog.set_config('standard_conforming_strings', 'on', true) AS standard_strings",
      `${userCode} AS user_code`,
    ].join(',\n  '),
    parameters: [
      { name: 'ms', value: { stringValue: String(ms) } },
      ...(probe === undefined ? [] : [{ name: 'names', value: { stringValue: probe.names } }]),
    ],
  }
}

/**
 * Judges the answer to {@link postgresReadOnlySetup}: the transaction must be read-only with the
 * limits the gateway asked for, and the probe must have found no user-defined code. Anything else
 * than exactly that one row fails closed. DB_ERROR (without a detail for the caller): the Data
 * API call itself succeeded, it is the database's answer that is not what it must be (AWS_ERROR
 * here is for a Data API response missing its own fields).
 * @throws UpstreamError DB_ERROR when the settings are not confirmed or the probe's answer is unreadable
 * @throws GuardError SQL_FUNCTION_NOT_BUILTIN when the probe found user-defined code
 */
export function judgePostgresReadOnlySetup(records: readonly (readonly Field[])[] | undefined, ms: number): void {
  const row = records?.length === 1 ? records[0] : undefined
  const text = (index: number) => row?.[index]?.stringValue
  const confirmed = row?.length === 4 && text(0) === 'on' && parsePostgresMilliseconds(text(1)) === ms && text(2) === 'on'
  if (!confirmed) {
    const seen = row === undefined ? `${records?.length ?? 0} rows` : JSON.stringify(row.slice(0, 3))
    throw new UpstreamError('DB_ERROR', `transaction setup: the database did not confirm read-only with a ${ms} ms limit (${seen.slice(0, 200)})`)
  }
  let rows: z.infer<typeof probeRowsSchema>
  try {
    rows = probeRowsSchema.parse(JSON.parse(text(3) ?? ''))
  } catch (error) {
    throw new UpstreamError('DB_ERROR', 'transaction setup: the catalog probe answered something other than rows of names', { cause: error })
  }
  judgeBuiltinProbe(rows.map((r) => r.map((v) => v ?? undefined)))
}
