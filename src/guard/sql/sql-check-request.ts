import type { BuiltinProbe } from './builtin-probe.js'

export type SqlEngine = 'postgres' | 'mysql'
export type SqlMode = 'read-only' | 'read-write'
/** Whether a statement may read system catalogs and server state (the grant's `sql.allowSystemCatalogs`). */
export type SystemCatalogAccess = 'refuse' | 'allow'

export interface SqlCheckRequest {
  readonly engine: SqlEngine
  readonly sql: string
  readonly mode: SqlMode
  /**
   * The grant's `maskColumns` globs. When any is given, masked columns may only be selected as
   * is (see checkSql); the masker then finds them under their own names.
   */
  readonly maskedColumns?: readonly string[]
  /**
   * True only for grants that opt in (`sql.allowSystemCatalogs`): reads of system catalogs,
   * server-state views and functions, and server settings are refused otherwise.
   */
  readonly allowSystemCatalogs?: boolean
}

/** Facts about a statement the guard accepted (for the audit record; never parameter values). */
export interface SqlCheck {
  readonly engine: SqlEngine
  readonly mode: SqlMode
  /** The parser's name for the statement, e.g. `SelectStmt`, `ExplainStmt`, `select`, `show`. */
  readonly statementKind: string
  /** Tables the statement names (schema-qualified when written so), lower-cased, deduplicated. */
  readonly tables: readonly string[]
  /** Functions the statement calls, normalised (`pg_catalog.lower` → `lower`). */
  readonly functions: readonly string[]
  /**
   * Read-only grants: the catalog query that must return no rows, in the statement's transaction
   * and before it, for the statement to run (see BuiltinProbe). Absent when it resolves no names.
   */
  readonly builtinProbe?: BuiltinProbe
}
