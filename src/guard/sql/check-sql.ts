import { checkPostgresSql } from './check-postgres-sql.js'
import { createMaskedColumnTest } from './masked-column-test.js'
import type { SqlCheck, SqlCheckRequest } from './sql-check-request.js'

/*
 * Read-only is layered; this guard is the first layer, not the only one:
 *   1. this guard, which refuses before any AWS call;
 *   2. the transaction: read-only calls run in a transaction the database keeps READ ONLY (both
 *      engines), after a catalog probe proving the statement's names reach only built-ins (see
 *      BuiltinProbe), and end in a rollback, so DML that got past the guard is refused or undone;
 *   3. a read-only database user (`readOnlySecretArn`), the only layer that also stops what a
 *      transaction cannot (DDL's implicit commit on MySQL, non-transactional tables, functions
 *      called implicitly by views, row-level security policies, triggers, or PostgreSQL's
 *      `row.func` attribute notation for user functions that take a row type).
 * Functions lean on an allowlist in read-only mode because a user-defined function can write;
 * an unknown function is refused rather than guessed about.
 */

/**
 * Decides whether one SQL statement may run under a grant's mode, parsing it with the engine's
 * real grammar (libpg-query for PostgreSQL, node-sql-parser's MySQL/MariaDB grammars for MySQL)
 * and walking the whole tree. Exactly one statement in every mode. Read-only allows plain
 * SELECT/VALUES/TABLE, SHOW and EXPLAIN (no ANALYZE) of those, calling only allowlisted
 * side-effect-free built-in functions; read-write refuses the few statements that are never fine
 * through an agent tool (server files and programs, extensions, DO, transaction and session
 * control, roles and users, stored code that runs later — functions, procedures, CALL, triggers,
 * rules, events, operators, casts — objects in `pg_temp`, and writes to system catalogs).
 *
 * With `maskedColumns`, a column whose name matches the column part of a masked glob may only
 * appear as a bare, un-renamed item of the outermost select list (masking matches output labels,
 * so an alias, expression, filter, join, ordering or whole-row value would read it unmasked).
 *
 * Sizes written into the statement are capped in every mode (see value-size-limits.ts).
 *
 * Unless `allowSystemCatalogs`, a statement may not read system catalogs or server state (password
 * hashes, other sessions' SQL, server settings; see postgres-catalog-policy.ts and
 * mysql-catalog-policy.ts for the short list of harmless catalog reads). Statements that change a
 * system object (locks, privileges, labels, maintenance) are refused in every case.
 *
 * @throws GuardError SQL_PARSE_FAILED, SQL_MULTIPLE_STATEMENTS, SQL_NOT_READ_ONLY (read-only grants), SQL_NOT_ALLOWED (read-write grants), SQL_MASKED_COLUMN, SQL_VALUE_TOO_LARGE, SQL_SYSTEM_CATALOG
 */
export async function checkSql(request: SqlCheckRequest): Promise<SqlCheck> {
  const isMasked = createMaskedColumnTest(request.maskedColumns ?? [])
  const catalogs = request.allowSystemCatalogs === true ? 'allow' : 'refuse'
  if (request.engine === 'postgres') return checkPostgresSql(request.sql, request.mode, isMasked, catalogs)
  const { checkMysqlSql } = await loadMysqlChecker()
  return checkMysqlSql(request.sql, request.mode, isMasked, catalogs)
}

// The MySQL parser costs memory and start-up time: only gateways with MySQL connections load it. Memoized,
// since even a cached import() goes through the module loader's resolve hooks on every call.
let mysqlChecker: Promise<typeof import('./check-mysql-sql.js')> | undefined
function loadMysqlChecker(): Promise<typeof import('./check-mysql-sql.js')> {
  mysqlChecker ??= import('./check-mysql-sql.js')
  return mysqlChecker
}
