/**
 * Which MySQL/MariaDB functions a statement may call. Read-only mode leans on an allowlist of
 * side-effect-free built-ins (stored functions can write); read-write mode refuses only the
 * ones that reach the server host.
 */

const READ_ONLY_DENIED: readonly (readonly [RegExp, string])[] = [
  [/^(sleep|benchmark)$/, 'holds the connection busy'],
  [/^(get_lock|release_lock|release_all_locks|is_free_lock|is_used_lock)$/, 'takes or inspects named locks'],
  [/^(load_file)$/, 'reads server files'],
  [/^(master_pos_wait|source_pos_wait|master_gtid_wait|wait_for_executed_gtid_set|wait_until_sql_thread_after_gtids)$/, 'waits on replication'],
  [/^(nextval|setval|lastval|last_insert_id)$/, 'changes sequence or session state'],
  [/^(sys_exec|sys_eval|sys_set|sys_get)$/, 'runs server commands'],
  [/^(uuid_short)$/, 'advances a server counter'],
]

const ALWAYS_DENIED: readonly (readonly [RegExp, string])[] = [
  [/^(load_file)$/, 'reads server files'],
  // Named locks belong to the session and stay with the pooled connection after the call.
  [/^(get_lock|release_lock|release_all_locks)$/, 'takes or releases named locks held by the shared connection'],
  [/^(sys_exec|sys_eval|sys_set|sys_get)$/, 'runs server commands'],
]

const READ_ONLY_ALLOWED = new Set(
  `count sum avg min max group_concat json_arrayagg json_objectagg bit_and bit_or bit_xor std stddev
  stddev_pop stddev_samp var_pop var_samp variance
  row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
  lower upper lcase ucase length char_length character_length octet_length bit_length substr substring
  substring_index mid left right trim ltrim rtrim lpad rpad concat concat_ws replace reverse repeat space
  locate instr position field find_in_set elt insert format hex unhex md5 sha sha1 sha2 to_base64
  from_base64 quote soundex ascii ord char strcmp regexp_replace regexp_instr regexp_substr regexp_like
  json_extract json_unquote json_object json_array json_contains json_contains_path json_keys json_length
  json_type json_valid json_search json_set json_insert json_replace json_remove json_merge_patch
  json_merge_preserve json_merge json_pretty json_quote json_depth json_overlaps json_value json_detailed
  json_compact json_loose json_exists json_query
  abs ceil ceiling floor round truncate sqrt pow power exp ln log log10 log2 mod sign pi degrees radians
  sin cos tan cot asin acos atan atan2 rand conv crc32 greatest least bin oct
  now current_timestamp current_date current_time curdate curtime sysdate utc_date utc_time utc_timestamp
  localtime localtimestamp date time year month day dayofmonth dayofweek dayofyear dayname monthname hour
  minute second microsecond week weekday weekofyear yearweek quarter date_add date_sub adddate subdate
  addtime subtime datediff timediff timestampdiff timestampadd date_format time_format str_to_date
  from_unixtime unix_timestamp last_day makedate maketime extract period_add period_diff to_days
  from_days to_seconds sec_to_time time_to_sec convert_tz get_format
  if ifnull nullif coalesce isnull exists any some all
  database schema version user current_user session_user system_user connection_id found_rows row_count
  charset collation coercibility
  cast convert binary uuid inet_aton inet_ntoa inet6_aton inet6_ntoa is_ipv4 is_ipv6 is_uuid`.split(/\s+/).filter((s) => s !== ''),
)

export interface FunctionVerdict {
  readonly allowed: boolean
  readonly reason?: string
}

/** Decides on one call; `schema` is the qualifier as written (stored functions live in one). */
export function judgeMysqlFunction(name: string, schema: string | undefined, mode: 'read-only' | 'read-write'): FunctionVerdict {
  const fn = name.toLowerCase()
  const shown = schema === undefined ? fn : `${schema.toLowerCase()}.${fn}`
  for (const [pattern, why] of ALWAYS_DENIED) {
    if (pattern.test(fn)) return { allowed: false, reason: `function ${shown} ${why}` }
  }
  if (mode === 'read-write') return { allowed: true }
  for (const [pattern, why] of READ_ONLY_DENIED) {
    if (pattern.test(fn)) return { allowed: false, reason: `function ${shown} ${why}` }
  }
  if (schema !== undefined) return { allowed: false, reason: `function ${shown} is a stored function and may write` }
  if (!READ_ONLY_ALLOWED.has(fn)) return { allowed: false, reason: `function ${shown} is not on the read-only allowlist` }
  return { allowed: true }
}
