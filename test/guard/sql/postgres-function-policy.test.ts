import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { judgePostgresFunction, normalizePostgresFunctionName } from '../../../src/guard/sql/postgres-function-policy.js'

type Mode = 'read-only' | 'read-write'
const NOT_LISTED = 'is not on the read-only allowlist'
const USER_DEFINED = 'is user-defined and may write'

// [name as written, mode, the reason after "function <name> ", or undefined when allowed]
const rows: readonly (readonly [string, Mode, string | undefined])[] = [
  // Refused in every mode, each with its own reason; a longer name around it is not the same function.
  ['set_config', 'read-write', 'changes settings that outlive the call'],
  ['pg_terminate_backend', 'read-write', 'signals other sessions'],
  ['pg_cancel_backend', 'read-write', 'signals other sessions'],
  ['dblink_connect', 'read-write', 'opens connections to other servers'],
  ['pg_advisory_lock', 'read-write', 'takes or releases session-level advisory locks'],
  ['pg_try_advisory_lock_shared', 'read-write', 'takes or releases session-level advisory locks'],
  ['pg_advisory_unlock_all', 'read-write', 'takes or releases session-level advisory locks'],
  ['lo_import', 'read-write', 'reads or writes server files'],
  ['lo_export', 'read-write', 'reads or writes server files'],
  ['pg_read_binary_file', 'read-write', 'reads server files'],
  ['pg_ls_waldir', 'read-write', 'reads server files'],
  ['pg_reload_conf', 'read-write', 'changes server state'],
  ['cursor_to_xmlschema', 'read-write', 'executes SQL given as text'],
  ['app_set_config', 'read-write', undefined],
  ['set_config_history', 'read-write', undefined],
  ['app_pg_terminate_backend', 'read-write', undefined],
  ['pg_cancel_backend_log', 'read-write', undefined],
  ['my_dblink', 'read-write', undefined],
  ['my_pg_advisory_lock', 'read-write', undefined],
  ['pg_advisory_lock_stats', 'read-write', undefined],
  ['pg_advisory_xact_lock', 'read-write', undefined],
  ['app_lo_import', 'read-write', undefined],
  ['lo_export_log', 'read-write', undefined],
  ['app_pg_read_file', 'read-write', undefined],
  ['pg_read_file_audit', 'read-write', undefined],
  ['app_pg_ls_dir', 'read-write', undefined],
  ['app_pg_reload_conf', 'read-write', undefined],
  ['pg_promote_log', 'read-write', undefined],
  ['app_query_to_xml', 'read-write', undefined],
  ['query_to_xml_safe', 'read-write', undefined],
  ['nextval', 'read-write', undefined],
  ['app.audit_write', 'read-write', undefined],
  // Read-only: the named side effects, each with its reason.
  ['setseed', 'read-only', 'changes session state'],
  ['pg_try_advisory_xact_lock', 'read-only', 'takes advisory locks'],
  ['lo_unlink', 'read-only', 'reads or writes large objects or server files'],
  ['loread', 'read-only', 'reads or writes large objects'],
  ['be_lowrite', 'read-only', 'reads or writes large objects'],
  ['pg_stat_file', 'read-only', 'reads server files'],
  ['pg_ls_logdir', 'read-only', 'reads server files'],
  ['lastval', 'read-only', 'changes sequences'],
  ['pg_sleep_until', 'read-only', 'sleeps'],
  ['pg_switch_xlog', 'read-only', 'changes server state'],
  ['pg_current_xact_id', 'read-only', 'assigns a transaction id'],
  ['table_to_xml', 'read-only', 'executes SQL given as text'],
  ['pg_logical_emit_message', 'read-only', 'writes logical replication state'],
  ['pg_create_logical_replication_slot', 'read-only', 'changes replication state'],
  ['pg_replication_origin_create', 'read-only', 'changes replication state'],
  ['pg_notify', 'read-only', 'sends notifications'],
  ['pg_stat_reset_shared', 'read-only', 'resets statistics'],
  ['pg_prewarm', 'read-only', 'changes server state'],
  ['ts_stat', 'read-only', 'executes SQL given as text'],
  // Read-only: a longer name around a denied one is merely not allowlisted.
  ['app_set_config', 'read-only', NOT_LISTED],
  ['set_config_history', 'read-only', NOT_LISTED],
  ['app_pg_cancel_backend', 'read-only', NOT_LISTED],
  ['pg_terminate_backend_log', 'read-only', NOT_LISTED],
  ['app_pg_advisory_lock', 'read-only', NOT_LISTED],
  ['app_dblink', 'read-only', NOT_LISTED],
  ['app_lo_unlink', 'read-only', NOT_LISTED],
  ['app_loread', 'read-only', NOT_LISTED],
  ['app_pg_stat_file', 'read-only', NOT_LISTED],
  ['pg_stat_file_log', 'read-only', NOT_LISTED],
  ['app_pg_ls_logdir', 'read-only', NOT_LISTED],
  ['pg_ls_x', 'read-only', 'reads server files'],
  ['app_nextval', 'read-only', NOT_LISTED],
  ['nextval_log', 'read-only', NOT_LISTED],
  ['app_pg_sleep', 'read-only', NOT_LISTED],
  ['app_pg_promote', 'read-only', NOT_LISTED],
  ['pg_promote_log', 'read-only', NOT_LISTED],
  ['app_txid_current', 'read-only', NOT_LISTED],
  ['txid_current_log', 'read-only', NOT_LISTED],
  ['app_table_to_xml', 'read-only', NOT_LISTED],
  ['table_to_xml_log', 'read-only', NOT_LISTED],
  ['app_pg_logical_x', 'read-only', NOT_LISTED],
  ['app_pg_drop_physical_replication_slot', 'read-only', NOT_LISTED],
  ['pg_drop_physical_replication_slot_log', 'read-only', NOT_LISTED],
  ['app_pg_replication_x', 'read-only', NOT_LISTED],
  ['app_pg_notify', 'read-only', NOT_LISTED],
  ['pg_notify_log', 'read-only', NOT_LISTED],
  ['app_pg_stat_reset', 'read-only', NOT_LISTED],
  ['pg_stat_reset_', 'read-only', 'resets statistics'],
  ['pg_stat_statements_reset_log', 'read-only', NOT_LISTED],
  ['app_setseed', 'read-only', NOT_LISTED],
  ['setseed_log', 'read-only', NOT_LISTED],
  ['app_pg_prewarm', 'read-only', NOT_LISTED],
  ['pg_prewarm_log', 'read-only', NOT_LISTED],
  ['app_ts_stat', 'read-only', NOT_LISTED],
  ['ts_stat_log', 'read-only', NOT_LISTED],
  ['pg_advisory_', 'read-only', 'takes advisory locks'],
  // Read-only: only pg_catalog's functions are the built-ins, however the name is qualified.
  ['lower', 'read-only', undefined],
  ['pg_catalog.lower', 'read-only', undefined],
  // Name parts arrive as the parser leaves them (unquoted ones already folded), so other case means quoted: not the built-in.
  ['PG_CATALOG.Lower', 'read-only', USER_DEFINED],
  ['pg_catalog.LOWER', 'read-only', NOT_LISTED],
  ['UPPER', 'read-only', NOT_LISTED],
  ['public.lower', 'read-only', USER_DEFINED],
  ['pg_catalog.app.lower', 'read-only', USER_DEFINED],
  ['pg_cata.log.lower', 'read-only', USER_DEFINED],
  ['app.pg_catalog.lower', 'read-only', USER_DEFINED],
]

describe('judgePostgresFunction', () => {
  for (const [written, mode, reason] of rows) {
    it(`${mode}: ${written} ${reason === undefined ? 'is allowed' : `is refused (${reason})`}`, () => {
      const parts = written.split('.')
      const expected = reason === undefined ? { allowed: true } : { allowed: false, reason: `function ${written.toLowerCase()} ${reason}` }
      assert.deepEqual(judgePostgresFunction(parts, mode), expected)
    })
  }
})

describe('normalizePostgresFunctionName', () => {
  const names: readonly (readonly [string, string])[] = [
    ['lower', 'lower'],
    ['PG_CATALOG.LOWER', 'lower'],
    ['app.lower', 'app.lower'],
    ['Pg_Catalog.app.f', 'pg_catalog.app.f'],
    ['app.pg_catalog.f', 'app.pg_catalog.f'],
    ['pg_catalog.f.g', 'pg_catalog.f.g'],
  ]
  for (const [written, recorded] of names) {
    it(`records ${written} as ${recorded}`, () => assert.equal(normalizePostgresFunctionName(written.split('.')), recorded))
  }
})
