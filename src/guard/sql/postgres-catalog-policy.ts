import { isObject, stringList, walkTree } from './walk-tree.js'
import type { Json } from './walk-tree.js'

/*
 * What a PostgreSQL statement may read of the server's own state without the grant's
 * `allowSystemCatalogs`. With a privileged database user, the system schemas hold password
 * hashes (pg_authid, pg_shadow), other servers' credentials (pg_user_mappings,
 * pg_subscription), other sessions' SQL text (pg_stat_activity, pg_stat_statements), the
 * server's configuration files (pg_file_settings, pg_hba_file_rules) and column values that
 * bypass masking (pg_stats). Deny by default: every relation in a system schema is refused
 * unless it is on the short list below, which is what an agent needs to learn a schema.
 * Built-ins that describe objects by oid (pg_get_functiondef, pg_get_viewdef, pg_get_userbyid)
 * stay allowed: they show the database's own code and names, not credentials or sessions.
 */

/** Schemas that belong to the server. Compared lower-cased: a quoted "PG_CATALOG" is refused too (the safe side). */
const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast'])

/**
 * Catalog relations that describe the schema and nothing else: names, types, keys, comments.
 * None holds a credential, another session's state, a server setting or a row value.
 */
const HARMLESS_RELATIONS = new Set([
  // Relation, schema and column names and types (pg_attribute's attmissingval is a DDL default, not a row value).
  'pg_catalog.pg_class',
  'pg_catalog.pg_namespace',
  'pg_catalog.pg_attribute',
  'pg_catalog.pg_type',
  'pg_catalog.pg_enum',
  // Keys, indexes, defaults and partitions: what a join or a filter needs to know.
  'pg_catalog.pg_index',
  'pg_catalog.pg_constraint',
  'pg_catalog.pg_attrdef',
  'pg_catalog.pg_inherits',
  // Comments on objects.
  'pg_catalog.pg_description',
  // Listing views over the above (pg_views shows a view's SQL, which its readers can see anyway).
  'pg_catalog.pg_tables',
  'pg_catalog.pg_views',
  'pg_catalog.pg_matviews',
  'pg_catalog.pg_indexes',
  // The standard's schema views; they show only objects the current user has some privilege on.
  'information_schema.tables',
  'information_schema.columns',
  'information_schema.views',
  'information_schema.schemata',
  'information_schema.table_constraints',
  'information_schema.key_column_usage',
  'information_schema.referential_constraints',
  'information_schema.constraint_column_usage',
  'information_schema.check_constraints',
])

/**
 * Server-state views that extensions install in a schema of the installer's choice (usually
 * public), so they are refused by name in any schema: other sessions' SQL text and plans.
 */
const EXTENSION_STATE_VIEWS = new Set([
  'pg_stat_statements',
  'pg_stat_statements_info',
  'pg_stat_monitor',
  'pg_stat_kcache',
  'pg_stat_kcache_detail',
  'pg_qualstats',
  'pg_qualstats_all',
  'pg_buffercache',
  'pg_wait_sampling_current',
  'pg_wait_sampling_history',
  'pg_wait_sampling_profile',
])

/**
 * Functions behind the server-state views, or that read any table named as text (so the guard
 * cannot see which). Matched on the unqualified name in any schema: extensions put theirs anywhere.
 */
const SERVER_STATE_FUNCTIONS: readonly (readonly [RegExp, string])[] = [
  [/^pg_stat_/, "reads server statistics and other sessions' activity"],
  [/^pg_(show_all_settings|show_all_file_settings|hba_file_rules|ident_file_mappings|config|settings_get_flags)$/, 'reads server settings or configuration files'],
  [/^pg_control_/, 'reads the server control file'],
  [/^pg_(get_|log_)?backend_memory_contexts$|^pg_get_shmem_allocations$/, 'reads server memory state'],
  [/^pg_(lock_status|blocking_pids|safe_snapshot_blocking_pids|prepared_xact|get_replication_slots)$/, 'reads other sessions\' locks or transactions'],
  [/^pg_(current_logfile|relation_filepath|tablespace_location)$/, 'reveals server file paths'],
  [/^pg_buffercache_|^pg_wait_sampling_|^pg_qualstats|^pg_stat_monitor/, "reads server statistics and other sessions' activity"],
  [/^ts_stat$/, 'runs SQL given as text, which the guard cannot see'],
  [/^(table_to_xml|table_to_xml_and_xmlschema|table_to_xmlschema|schema_to_xml|schema_to_xml_and_xmlschema|schema_to_xmlschema|database_to_xml|database_to_xml_and_xmlschema|database_to_xmlschema)$/, 'reads tables named as text, which the guard cannot see'],
]

/**
 * Settings that say how the session reads and writes values, readable through SHOW and
 * current_setting(). Others may hold file paths, connection strings or an application's
 * secret (custom settings such as `app.jwt_secret`).
 */
const HARMLESS_SETTINGS = new Set([
  'search_path', 'timezone', 'datestyle', 'intervalstyle', 'extra_float_digits', 'bytea_output',
  'client_encoding', 'server_encoding', 'server_version', 'server_version_num', 'standard_conforming_strings',
  'lc_collate', 'lc_ctype', 'lc_monetary', 'lc_numeric', 'lc_time', 'lc_messages', 'integer_datetimes', 'max_identifier_length',
  'transaction_isolation', 'transaction_read_only', 'default_transaction_isolation', 'default_transaction_read_only',
  'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'is_superuser',
])

/** Whether reading this relation needs the opt-in: system-schema relations off the list, and unqualified `pg_*` names. */
function relationReason(node: Json): string | undefined {
  const relname = node['relname']
  if (typeof relname !== 'string') return undefined
  const name = relname.toLowerCase()
  const schema = typeof node['schemaname'] === 'string' ? node['schemaname'].toLowerCase() : undefined
  // PostgreSQL searches pg_catalog before the search path, and every relation in it starts with "pg_".
  const effective = schema ?? (name.startsWith('pg_') ? 'pg_catalog' : undefined)
  if (EXTENSION_STATE_VIEWS.has(name)) return `reads ${schema === undefined ? name : `${schema}.${name}`}, a server-state view`
  if (effective === undefined || !SYSTEM_SCHEMAS.has(effective)) return undefined
  if (HARMLESS_RELATIONS.has(`${effective}.${name}`)) return undefined
  return `reads ${effective}.${name}, a system catalog or server-state view`
}

function settingReason(setting: unknown): string | undefined {
  if (typeof setting === 'string' && HARMLESS_SETTINGS.has(setting.toLowerCase())) return undefined
  const shown = typeof setting === 'string' ? ` ${setting}` : ' named by an expression'
  return `reads the server setting${shown}`
}

function functionReason(call: Json): string | undefined {
  const parts = stringList(call['funcname']).map((p) => p.toLowerCase())
  const name = parts.at(-1) ?? ''
  for (const [pattern, why] of SERVER_STATE_FUNCTIONS) {
    if (pattern.test(name)) return `function ${parts.join('.')} ${why}`
  }
  // ts_rewrite(query, 'SELECT …') runs its second argument; the three-argument form only computes.
  const args = Array.isArray(call['args']) ? call['args'] : []
  if (name === 'ts_rewrite' && args.length === 2) return `function ${parts.join('.')} runs SQL given as text, which the guard cannot see`
  if (name === 'current_setting') {
    const [first] = args
    const constant = isObject(first) && isObject(first['A_Const']) ? first['A_Const']['sval'] : undefined
    return settingReason(isObject(constant) ? constant['sval'] : undefined)
  }
  return undefined
}

/**
 * What a statement reads of the server's own state, if anything: a system relation off the
 * harmless list, a server-state view or function, or a setting off the harmless list (SHOW,
 * current_setting). Undefined when it reads none. The caller refuses unless the grant opts in.
 */
export function postgresSystemRead(kind: string, body: Json): string | undefined {
  if (kind === 'VariableShowStmt') {
    if (body['name'] === 'all') return 'SHOW ALL reads every server setting'
    const reason = settingReason(body['name'])
    if (reason !== undefined) return reason
  }
  let found: string | undefined
  walkTree(body, (node, key) => {
    found ??= key === 'FuncCall' ? functionReason(node) : relationReason(node)
  })
  return found
}
