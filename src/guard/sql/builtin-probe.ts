import { GuardError } from '../../errors.js'

/**
 * A catalog query the gateway runs in the read-only transaction, before the caller's statement,
 * to prove that every name the statement resolves at run time (functions, attribute notation,
 * operators, types, casts) can only reach built-ins. A static parser cannot see the catalog: the
 * allowlists pass `lower(…)`, but the database may hold a user-defined `lower` that resolves
 * first (an overload on another argument type, a table's row type, or a schema placed before
 * `pg_catalog` on the search path). The query returns one row per user-defined object that could
 * be reached, as `[kind, name]`; no rows is the proof.
 */
export interface BuiltinProbe {
  /** SQL with one `:names` placeholder, bound to `names` as a string. */
  readonly sql: string
  readonly names: string
}

/**
 * Judges a probe's rows: any row is a user-defined object the statement could reach.
 * @throws GuardError SQL_FUNCTION_NOT_BUILTIN naming the first such object (for the audit)
 */
export function judgeBuiltinProbe(rows: readonly (readonly (string | undefined)[])[]): void {
  const first = rows[0]
  if (first === undefined) return
  const shown = rows
    .slice(0, 5)
    .map((row) => `${row[0] ?? 'object'} ${row[1] ?? '?'}`)
    .join(', ')
  throw new GuardError('SQL_FUNCTION_NOT_BUILTIN', `not read-only: the statement could call user-defined code (${shown}${rows.length > 5 ? ', …' : ''}); only built-ins may run under a read-only grant`)
}
