import type { BuiltinProbe } from './builtin-probe.js'

/*
 * How MySQL and MariaDB resolve an unqualified call (measured on MariaDB 10.11, as documented in
 * MySQL's "Function Name Parsing and Resolution"): a native built-in wins over a stored function
 * of the same name, but a name the server does not have natively (`regexp_like` on MariaDB,
 * `json_detailed` on MySQL) resolves to a stored function in the current database, and so does a
 * built-in of the IGNORE_SPACE list written with a space (`count (x)` calls `db.count`). The
 * allowlist spans both servers, so the gateway asks, in the read-only transaction and just before
 * the statement, whether the current database holds a stored function with any name the
 * statement calls; the server lists only routines the user may run. Loadable functions
 * (`CREATE FUNCTION … SONAME`) need a library installed on the server host by its administrator
 * and cannot take a native function's name; they are not probed.
 */
const PROBE_SQL = `SELECT 'stored function' AS kind, CONCAT(ROUTINE_SCHEMA, '.', ROUTINE_NAME) AS name FROM information_schema.ROUTINES
 WHERE ROUTINE_TYPE = 'FUNCTION' AND ROUTINE_SCHEMA = DATABASE() AND FIND_IN_SET(LOWER(ROUTINE_NAME), :names) > 0 LIMIT 20`

/**
 * The probe for the unqualified functions a read-only MySQL/MariaDB statement calls (already on
 * the allowlist, so none holds a comma), or undefined when it calls none.
 */
export function mysqlBuiltinProbe(functions: readonly string[]): BuiltinProbe | undefined {
  const names = functions.filter((name) => !name.includes('.')).map((name) => name.toLowerCase())
  return names.length === 0 ? undefined : { sql: PROBE_SQL, names: names.join(',') }
}
