/**
 * Which PostgreSQL functions a statement may call.
 *
 * Read-only mode leans on an allowlist: a user-defined function can write (or call something
 * that does), so only built-ins known to be free of side effects pass; anything else is refused,
 * with a named reason for the well-known dangerous ones. Read-write mode refuses only functions
 * that reach outside the database (server files, programs, other servers), end other sessions or
 * change server or session state that outlives the call.
 */

/** Side-effecting built-ins, refused in read-only mode with their reason. */
const READ_ONLY_DENIED: readonly (readonly [RegExp, string])[] = [
  [/^(set_config)$/, 'changes server settings'],
  [/^pg_(terminate|cancel)_backend$/, 'signals other sessions'],
  [/^pg_(try_)?advisory_/, 'takes advisory locks'],
  [/^dblink/, 'opens connections to other servers'],
  [/^lo_/, 'reads or writes large objects or server files'],
  [/^(be_)?lo(read|write|open|close|creat|create|import|export|unlink|truncate|put|get|from_bytea)/, 'reads or writes large objects'],
  [/^pg_(read_file|read_binary_file|ls_dir|stat_file|file_write)$/, 'reads server files'],
  [/^pg_ls_/, 'lists server files'],
  [/^(nextval|setval|lastval)$/, 'changes sequences'],
  [/^pg_sleep/, 'sleeps'],
  [/^pg_(reload_conf|rotate_logfile|switch_wal|switch_xlog|create_restore_point|promote|wal_replay_pause|wal_replay_resume|backup_start|backup_stop|start_backup|stop_backup)$/, 'changes server state'],
  [/^(txid_current|txid_current_if_assigned|pg_current_xact_id|pg_current_xact_id_if_assigned)$/, 'assigns a transaction id'],
  [/^(query_to_xml|query_to_xml_and_xmlschema|query_to_xmlschema|cursor_to_xml|cursor_to_xmlschema|table_to_xml|table_to_xml_and_xmlschema|table_to_xmlschema|schema_to_xml|schema_to_xml_and_xmlschema|database_to_xml|database_to_xml_and_xmlschema)$/, 'executes SQL given as text'],
  [/^pg_logical_/, 'writes logical replication state'],
  [/^pg_(create|drop|copy)_(physical|logical)_replication_slot$|^pg_replication_/, 'changes replication state'],
  [/^(pg_notify)$/, 'sends notifications'],
  [/^pg_(stat_reset|stat_reset_.*|stat_statements_reset)$/, 'resets statistics'],
  [/^(setseed)$/, 'changes session state'],
  [/^pg_(import_system_collations|prewarm|extension_config_dump)$/, 'changes server state'],
  [/^(ts_stat)$/, 'executes SQL given as text'],
]

/** Built-ins that only compute, refused in neither mode. Names are lower-case, unqualified. */
const READ_ONLY_ALLOWED = new Set(
  `count sum avg min max array_agg string_agg json_agg jsonb_agg json_object_agg jsonb_object_agg
  bool_and bool_or every bit_and bit_or bit_xor stddev stddev_pop stddev_samp variance var_pop var_samp
  percentile_cont percentile_disc mode corr covar_pop covar_samp regr_avgx regr_avgy regr_count
  regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy any_value range_agg xmlagg
  row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
  lower upper length char_length character_length octet_length bit_length substr substring trim btrim
  ltrim rtrim lpad rpad concat concat_ws replace split_part strpos position left right reverse repeat
  initcap md5 sha224 sha256 sha384 sha512 encode decode format quote_ident quote_literal quote_nullable
  regexp_replace regexp_match regexp_matches regexp_split_to_array regexp_split_to_table regexp_count
  regexp_like regexp_substr regexp_instr starts_with translate ascii chr to_hex string_to_array similar_to_escape
  string_to_table array_to_string overlay normalize is_normalized unistr casefold
  to_char to_number to_date to_timestamp to_ascii convert_from convert_to
  abs ceil ceiling floor round trunc sqrt cbrt power pow exp ln log log10 mod sign pi degrees radians
  sin cos tan cot asin acos atan atan2 sind cosd tand asind acosd atand atan2d sinh cosh tanh
  width_bucket div gcd lcm factorial scale min_scale trim_scale random random_normal
  now current_setting current_database current_schema current_schemas current_user session_user
  current_catalog version date_trunc date_part extract age make_date make_time make_timestamp
  make_timestamptz make_interval clock_timestamp statement_timestamp transaction_timestamp timeofday
  date_bin justify_days justify_hours justify_interval isfinite timezone overlaps date_add date_subtract
  json_build_object jsonb_build_object json_build_array jsonb_build_array to_json to_jsonb row_to_json
  array_to_json json_object jsonb_object json_extract_path json_extract_path_text jsonb_extract_path
  jsonb_extract_path_text json_array_length jsonb_array_length json_array_elements jsonb_array_elements
  json_array_elements_text jsonb_array_elements_text json_each jsonb_each json_each_text jsonb_each_text
  json_object_keys jsonb_object_keys json_typeof jsonb_typeof jsonb_pretty jsonb_set jsonb_set_lax
  jsonb_insert jsonb_strip_nulls json_strip_nulls jsonb_path_query jsonb_path_exists jsonb_path_match
  jsonb_path_query_array jsonb_path_query_first json_populate_record jsonb_populate_record
  json_populate_recordset jsonb_populate_recordset json_to_record jsonb_to_record json_to_recordset
  jsonb_to_recordset
  array_length array_upper array_lower array_position array_positions array_append array_prepend
  array_cat array_remove array_replace cardinality array_dims array_ndims array_fill array_reverse
  array_sample array_shuffle array_sort trim_array generate_subscripts generate_series unnest
  gen_random_uuid uuidv4 uuidv7 uuid_extract_timestamp uuid_extract_version
  num_nulls num_nonnulls pg_typeof pg_column_size pg_size_pretty pg_size_bytes pg_total_relation_size
  pg_relation_size pg_table_size pg_indexes_size pg_database_size format_type obj_description
  col_description shobj_description has_table_privilege has_schema_privilege has_database_privilege
  has_column_privilege has_any_column_privilege has_function_privilege has_sequence_privilege
  pg_has_role pg_get_viewdef pg_get_indexdef pg_get_constraintdef pg_get_functiondef
  pg_get_function_arguments pg_get_function_result pg_get_triggerdef pg_get_expr pg_get_userbyid
  pg_get_serial_sequence pg_table_is_visible pg_type_is_visible pg_function_is_visible
  pg_is_in_recovery pg_backend_pid pg_postmaster_start_time pg_conf_load_time inet_client_addr
  inet_client_port inet_server_addr inet_server_port pg_collation_for pg_encoding_to_char
  pg_get_keywords pg_client_encoding
  int2 int4 int8 float4 float8 numeric text varchar bool date time timestamp timestamptz interval
  bpchar inet cidr host masklen network broadcast family abbrev set_masklen
  to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank ts_rank_cd
  ts_headline setweight strip numnode querytree
  xmlelement xmlforest xmlconcat xmlcomment xmlparse xmlserialize xmlroot xpath xpath_exists
  xml_is_well_formed xml_is_well_formed_document xml_is_well_formed_content
  bit_count get_bit get_byte set_bit set_byte crc32 crc32c
  point box circle line lseg path polygon area center diameter height width radius isclosed isopen
  npoints pclose popen
  lower_inc upper_inc lower_inf upper_inf isempty range_merge int4range int8range numrange tsrange
  tstzrange daterange multirange`.split(/\s+/).filter((s) => s !== ''),
)

/** Built-ins that reach outside the database or change lasting state; refused even for read-write grants. */
const ALWAYS_DENIED: readonly (readonly [RegExp, string])[] = [
  [/^(set_config)$/, 'changes settings that outlive the call'],
  [/^pg_(terminate|cancel)_backend$/, 'signals other sessions'],
  [/^dblink/, 'opens connections to other servers'],
  // Session-level advisory locks stay with the pooled connection after the call; the _xact_ ones end with it.
  [/^pg_(try_)?advisory_(lock|lock_shared|unlock|unlock_shared|unlock_all)$/, 'takes or releases session-level advisory locks'],
  [/^lo_(import|export)$/, 'reads or writes server files'],
  [/^pg_(read_file|read_binary_file|ls_dir|stat_file|file_write)$|^pg_ls_/, 'reads server files'],
  [/^pg_(reload_conf|rotate_logfile|switch_wal|promote|create_restore_point)$/, 'changes server state'],
  [/^(query_to_xml|query_to_xml_and_xmlschema|query_to_xmlschema|cursor_to_xml|cursor_to_xmlschema)$/, 'executes SQL given as text'],
]

/** Schemas whose functions are the server's own; anything else is user-defined. */
const SYSTEM_SCHEMAS = new Set(['pg_catalog'])

export interface FunctionVerdict {
  readonly allowed: boolean
  readonly reason?: string
}

/** Decides on one call, given its name parts as written (any case, quoted or not). */
export function judgePostgresFunction(nameParts: readonly string[], mode: 'read-only' | 'read-write'): FunctionVerdict {
  // Quoting only changes case folding; a denylist must not be dodged by "PG_CATALOG"."SET_CONFIG".
  const parts = nameParts.map((p) => p.toLowerCase())
  const name = parts.at(-1) ?? ''
  const schema = parts.length > 1 ? parts.slice(0, -1).join('.') : undefined
  const shown = parts.join('.')
  for (const [pattern, why] of ALWAYS_DENIED) {
    if (pattern.test(name)) return { allowed: false, reason: `function ${shown} ${why}` }
  }
  if (mode === 'read-write') return { allowed: true }
  for (const [pattern, why] of READ_ONLY_DENIED) {
    if (pattern.test(name)) return { allowed: false, reason: `function ${shown} ${why}` }
  }
  // Allowing goes by the exact names: the parser has already folded unquoted identifiers, so a
  // quoted "PG_CATALOG" or "UPPER" is another schema or function than the built-in one.
  const exactSchema = nameParts.length > 1 ? nameParts.slice(0, -1).join('.') : undefined
  if (schema !== undefined && (exactSchema === undefined || !SYSTEM_SCHEMAS.has(exactSchema))) {
    return { allowed: false, reason: `function ${shown} is user-defined and may write` }
  }
  if (!READ_ONLY_ALLOWED.has(nameParts.at(-1) ?? '')) {
    return { allowed: false, reason: `function ${shown} is not on the read-only allowlist` }
  }
  return { allowed: true }
}

/** The name recorded in the audit: unqualified for built-ins, qualified otherwise. */
export function normalizePostgresFunctionName(nameParts: readonly string[]): string {
  const parts = nameParts.map((p) => p.toLowerCase())
  if (parts.length === 2 && parts[0] === 'pg_catalog') return parts[1] ?? ''
  return parts.join('.')
}
