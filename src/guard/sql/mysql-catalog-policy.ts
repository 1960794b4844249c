import { isObject, walkTree } from './walk-tree.js'

/*
 * What a MySQL/MariaDB statement may read of the server's own state without the grant's
 * `allowSystemCatalogs`. With a privileged database user, `mysql.*` holds password hashes
 * (mysql.user, mysql.global_priv), information_schema.PROCESSLIST and performance_schema hold
 * other sessions' SQL text, and `sys.*` summarises both; SHOW PROCESSLIST, SHOW GRANTS and
 * SHOW BINLOG EVENTS read the same. Deny by default, with a short list of harmless reads.
 */

/** Compared lower-cased: with lower_case_table_names=0 `MYSQL` is another database, refused too (the safe side). */
const SYSTEM_SCHEMAS = new Set(['mysql', 'information_schema', 'performance_schema', 'sys'])

/** information_schema views that describe the schema only, filtered to what the user has privileges on. */
const HARMLESS_TABLES = new Set([
  'information_schema.tables',
  'information_schema.columns',
  'information_schema.views',
  'information_schema.schemata',
  'information_schema.statistics',
  'information_schema.key_column_usage',
  'information_schema.table_constraints',
  'information_schema.referential_constraints',
  'information_schema.check_constraints',
  'information_schema.character_sets',
  'information_schema.collations',
])

/** SHOW statements that list the schema (the tables they name are checked like any other). */
const HARMLESS_SHOW = new Set(['tables', 'databases', 'columns', 'fields', 'index', 'indexes', 'keys', 'create table', 'create view', 'character set', 'collation'])

/** Server variables that say how the session reads and writes values; others may hold paths or server details. */
const HARMLESS_VARIABLES = new Set([
  'version', 'version_comment', 'sql_mode', 'time_zone', 'autocommit', 'lower_case_table_names', 'max_allowed_packet',
  'character_set_client', 'character_set_connection', 'character_set_results', 'character_set_database', 'character_set_server',
  'collation_connection', 'collation_database', 'collation_server', 'transaction_isolation', 'tx_isolation',
  'transaction_read_only', 'tx_read_only', 'group_concat_max_len', 'div_precision_increment', 'sql_select_limit',
  'max_execution_time', 'max_statement_time', 'lock_wait_timeout', 'innodb_lock_wait_timeout', 'auto_increment_increment', 'auto_increment_offset',
])

const SCOPES = new Set(['global', 'session', 'local'])

function tableReason(db: unknown, table: unknown): string | undefined {
  if (typeof db !== 'string' || typeof table !== 'string') return undefined
  const schema = db.toLowerCase()
  if (!SYSTEM_SCHEMAS.has(schema)) return undefined
  const name = `${schema}.${table.toLowerCase()}`
  return HARMLESS_TABLES.has(name) ? undefined : `reads ${name}, a system table or server-state view`
}

function showReason(top: Record<string, unknown>): string | undefined {
  const keyword = typeof top['keyword'] === 'string' ? top['keyword'].toLowerCase() : ''
  const suffix = typeof top['suffix'] === 'string' ? ` ${top['suffix'].toLowerCase()}` : ''
  const shown = `${keyword}${suffix}`
  return HARMLESS_SHOW.has(shown) ? undefined : `SHOW ${shown.toUpperCase()} reads server state`
}

function variableReason(node: Record<string, unknown>): string | undefined {
  if (node['type'] !== 'var' || node['prefix'] !== '@@') return undefined
  const name = typeof node['name'] === 'string' ? node['name'].toLowerCase() : ''
  const members = Array.isArray(node['members']) ? node['members'].map(String) : []
  // `@@GLOBAL.x` and `@@session.x` name the variable after the scope.
  const scoped = SCOPES.has(name)
  const variable = (scoped ? members[0] ?? '' : name).toLowerCase()
  const plain = members.length === (scoped ? 1 : 0)
  return plain && HARMLESS_VARIABLES.has(variable) ? undefined : `reads the server variable @@${[name, ...members].join('.')}`
}

function functionReason(node: Record<string, unknown>): string | undefined {
  if (node['type'] !== 'function' || !isObject(node['name'])) return undefined
  const schema = isObject(node['name']['schema']) ? node['name']['schema']['value'] : undefined
  return typeof schema === 'string' && SYSTEM_SCHEMAS.has(schema.toLowerCase()) ? `calls a function of the system schema ${schema.toLowerCase()}` : undefined
}

/**
 * What a MySQL statement reads of the server's own state, if anything: a table in a system
 * schema off the harmless list, a SHOW of server state, a server variable off the harmless list
 * or a function in a system schema. The caller refuses unless the grant opts in.
 */
export function mysqlSystemRead(top: Record<string, unknown>, tableList: readonly string[]): string | undefined {
  if (top['type'] === 'show') {
    const reason = showReason(top)
    if (reason !== undefined) return reason
  }
  for (const entry of tableList) {
    const [, db, table] = entry.split('::')
    const reason = tableReason(db, table)
    if (reason !== undefined) return reason
  }
  let found: string | undefined
  walkTree(top, (node) => {
    // Tables SHOW COLUMNS / SHOW CREATE TABLE name, which the parser leaves out of its table list.
    found ??= node['type'] === 'column_ref' ? undefined : tableReason(node['db'], node['table'])
    found ??= variableReason(node) ?? functionReason(node)
  })
  return found
}

/**
 * Which system table a statement writes, if any (UPDATE mysql.user, INSERT INTO mysql.db, DROP
 * TABLE sys.x): refused whatever the grant, opt-in or not, since it changes accounts and
 * privileges or the server's own schema.
 */
export function mysqlSystemWrite(tableList: readonly string[]): string | undefined {
  for (const entry of tableList) {
    const [type, db, table] = entry.split('::')
    if (type !== 'select' && typeof db === 'string' && SYSTEM_SCHEMAS.has(db.toLowerCase())) return `writes to ${db}.${table ?? ''} in a system schema`
  }
  return undefined
}
