import { GuardError } from '../../errors.js'

/*
 * Statements that build a huge value from a small text (`repeat('x', 1e9)`, `lpad('', 1e9)`,
 * `generate_series(1, 1e12)`, `array_fill(0, ARRAY[1e9])`, MySQL's SPACE, MariaDB's
 * `seq_1_to_1000000000000` tables) make the server allocate memory or spill to disk long before
 * any result limit applies. Where the size is written in the statement (a literal, or arithmetic
 * on literals), the guard refuses it above these limits, in every mode. Where it is not (a column
 * value, a `:parameter`, a recursive CTE, string_agg/group_concat over many rows, a series of
 * timestamps), the bounds are the ones every call already has: the grant's statement timeout,
 * which the database enforces (PostgreSQL statement_timeout, MariaDB max_statement_time, MySQL
 * max_execution_time), the Data API's 1 MiB response limit, and the servers' own value ceilings
 * (PostgreSQL 1 GB per value, MySQL max_allowed_packet, group_concat_max_len).
 */

/** The most characters one visible string expression may produce (1 MiB, the Data API's response limit). */
export const MAX_PRODUCED_CHARS = 1024 * 1024
/**
 * The most rows or array elements visible series may produce; every series in one statement is
 * counted as if cross-joined, since a join or a correlated subquery multiplies them.
 */
export const MAX_SERIES_ROWS = 10_000_000

export function tooLarge(what: string, size: number, limit: number): GuardError {
  const shown = Number.isFinite(size) ? String(Math.round(size)) : 'unbounded'
  return new GuardError('SQL_VALUE_TOO_LARGE', `${what} would produce ${shown}, over the limit of ${limit}`)
}

/** The size a repeat/pad argument asks for: negative counts produce nothing. */
export function count(value: number | undefined): number | undefined {
  if (value === undefined || Number.isNaN(value)) return undefined
  return Math.max(0, Math.floor(value))
}

/** Rows of a numeric series start..stop by step, or undefined when not all are known. */
export function seriesRows(start: number | undefined, stop: number | undefined, step: number | undefined): number | undefined {
  if (start === undefined || stop === undefined || step === undefined || step === 0 || Number.isNaN(step)) return undefined
  const rows = Math.floor((stop - start) / step) + 1
  return Number.isNaN(rows) ? undefined : Math.max(0, rows)
}
