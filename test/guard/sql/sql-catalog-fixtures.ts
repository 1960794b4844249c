/*
 * System catalogs and server state, beyond the cases in sql-fixtures.ts: reads refused unless the
 * grant opts in (`allowSystemCatalogs`), the harmless catalog reads every grant keeps, and
 * statements that change a system object, refused even with the opt-in.
 */

/** Reads of server state that the opt-in allows, in read-only and read-write mode alike. */
export const postgresCatalogReads: readonly { readonly sql: string; readonly names: string }[] = [
  { sql: 'SELECT * FROM PG_CATALOG.PG_AUTHID', names: 'pg_catalog.pg_authid' },
  { sql: 'SELECT * FROM test.pg_catalog.pg_authid', names: 'pg_catalog.pg_authid' },
  { sql: 'SELECT * FROM "PG_CATALOG".pg_authid', names: 'pg_catalog.pg_authid' },
  { sql: 'TABLE pg_shadow', names: 'pg_catalog.pg_shadow' },
  // Unicode escapes name the same relation once the parser has decoded them.
  { sql: 'SELECT * FROM U&"pg_\\0061uthid"', names: 'pg_catalog.pg_authid' },
  { sql: 'SELECT * FROM pg_catalog.pg_file_settings', names: 'pg_catalog.pg_file_settings' },
  { sql: 'SELECT * FROM pg_hba_file_rules', names: 'pg_catalog.pg_hba_file_rules' },
  // pg_stats shows column values, masked or not.
  { sql: 'SELECT most_common_vals FROM pg_stats WHERE attname = $$email$$', names: 'pg_catalog.pg_stats' },
  { sql: 'SELECT * FROM pg_toast.pg_toast_2619', names: 'pg_toast.pg_toast_2619' },
  { sql: 'SELECT * FROM information_schema.user_mapping_options', names: 'information_schema.user_mapping_options' },
  { sql: 'SELECT * FROM pg_catalog.pg_subscription', names: 'pg_catalog.pg_subscription' },
  { sql: 'SELECT * FROM accounts a JOIN pg_roles r ON r.rolname = a.owner', names: 'pg_catalog.pg_roles' },
  { sql: 'SELECT 1 FROM pg_class WHERE EXISTS (SELECT 1 FROM pg_locks)', names: 'pg_catalog.pg_locks' },
  { sql: 'SELECT * FROM app.pg_stat_statements_info', names: 'app.pg_stat_statements_info' },
  { sql: "SELECT current_setting('data_directory')", names: 'data_directory' },
  { sql: 'SELECT current_setting(:name)', names: 'named by an expression' },
  { sql: 'SHOW hba_file', names: 'hba_file' },
  { sql: 'SHOW app.jwt_secret', names: 'app.jwt_secret' },
]

/** Server-state functions: not on the read-only allowlist, so these are read-write cases. */
export const postgresServerStateFunctions: readonly string[] = [
  'SELECT * FROM pg_stat_get_activity(NULL)',
  'SELECT pg_stat_get_backend_activity(1)',
  'SELECT * FROM public.pg_stat_statements(true)',
  'SELECT * FROM pg_catalog.pg_show_all_settings()',
  'SELECT * FROM pg_hba_file_rules()',
  'SELECT * FROM pg_control_system()',
  "SELECT table_to_xml('pg_catalog.pg_authid', true, false, '')",
  "SELECT schema_to_xml('pg_catalog', true, false, '')",
  'INSERT INTO accounts (owner) SELECT pg_current_logfile()',
  'SELECT * FROM pg_lock_status()',
  'SELECT * FROM pg_get_backend_memory_contexts()',
  'SELECT pg_log_backend_memory_contexts(1)',
  'SELECT app.pg_backend_memory_contexts()',
  'SELECT * FROM pg_buffercache_pages()',
  "SELECT ts_stat('SELECT to_tsvector(rolpassword) FROM pg_authid')",
  "SELECT ts_rewrite('a'::tsquery, 'SELECT t, s FROM aliases')",
]

/** Catalog reads every grant keeps: they describe the schema and nothing else. */
export const postgresHarmlessCatalogReads: readonly string[] = [
  'SELECT * FROM information_schema.tables',
  'SELECT * FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE',
  'SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace',
  'SELECT * FROM pg_catalog.pg_tables UNION ALL SELECT * FROM pg_catalog.pg_tables',
  'SELECT conname FROM pg_constraint JOIN pg_type t ON true JOIN pg_enum e ON true',
  // A user's relation named like a catalog, qualified with its own schema.
  'SELECT * FROM app.pg_authid',
  'SELECT * FROM "app"."pg_stat_activity"',
  'SHOW search_path',
  'SHOW server_version',
  "SELECT current_setting('TimeZone'), current_setting('transaction_read_only')",
  "SELECT pg_get_functiondef('lower'::regproc)",
  'SELECT 1 FROM pg_attribute, pg_index, pg_attrdef, pg_inherits, pg_description, pg_views, pg_matviews, pg_indexes',
  'SELECT 1 FROM information_schema.columns, information_schema.views, information_schema.schemata, information_schema.table_constraints, information_schema.referential_constraints, information_schema.constraint_column_usage, information_schema.check_constraints',
  `SELECT ${[
    'search_path', 'timezone', 'datestyle', 'intervalstyle', 'extra_float_digits', 'bytea_output', 'client_encoding', 'server_encoding',
    'server_version', 'server_version_num', 'standard_conforming_strings', 'lc_collate', 'lc_ctype', 'lc_monetary', 'lc_numeric', 'lc_time',
    'lc_messages', 'integer_datetimes', 'max_identifier_length', 'transaction_isolation', 'transaction_read_only',
    'default_transaction_isolation', 'default_transaction_read_only', 'statement_timeout', 'lock_timeout',
    'idle_in_transaction_session_timeout', 'is_superuser',
  ].map((name) => `current_setting('${name}')`).join(', ')}`,
]

/** Server-state views extensions install in any schema: refused by name, qualified or not. */
export const postgresExtensionStateViews: readonly string[] = [
  'pg_stat_statements', 'pg_stat_statements_info', 'pg_stat_monitor', 'pg_stat_kcache', 'pg_stat_kcache_detail', 'pg_qualstats',
  'pg_qualstats_all', 'pg_buffercache', 'pg_wait_sampling_current', 'pg_wait_sampling_history', 'pg_wait_sampling_profile',
]

/** Function names that only look like server-state ones (the pattern is anchored at both ends): a read-write grant may call them. */
export const postgresServerStateLookalikes =
  'SELECT x_pg_stat_a(), x_pg_config(), pg_configx(), x_pg_control_a(), x_pg_backend_memory_contexts(), pg_backend_memory_contextsx(), ' +
  'x_pg_get_shmem_allocations(), pg_get_shmem_allocationsx(), x_pg_lock_status(), pg_lock_statusx(), x_pg_current_logfile(), pg_current_logfilex(), ' +
  'x_pg_buffercache_a(), x_pg_wait_sampling_a(), x_pg_qualstats(), x_pg_stat_monitor(), x_ts_stat(), ts_statx(), x_table_to_xml(), table_to_xmlx()'

/** Read-write neighbours of the server-state functions: the same names doing only computation. */
export const postgresComputingFunctions: readonly string[] = [
  "SELECT ts_rewrite('a & b'::tsquery, 'a'::tsquery, 'c'::tsquery)",
  "SELECT pg_catalog.pg_size_pretty(1024), pg_typeof(1), pg_backend_pid()",
  "SELECT current_setting('search_path', true)",
]

/** Statements that change a system object: refused for read-write grants, opt-in or not; `message` follows "refused in every mode: ". */
export const postgresSystemTargets: readonly { readonly sql: string; readonly message: string }[] = [
  { sql: 'LOCK TABLE pg_catalog.pg_authid', message: 'changes pg_catalog.pg_authid in a system schema' },
  { sql: 'LOCK pg_class IN ACCESS EXCLUSIVE MODE', message: 'changes pg_class, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'GRANT SELECT ON pg_authid TO PUBLIC', message: 'changes pg_authid, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'REVOKE SELECT ON "pg_catalog".pg_class FROM PUBLIC', message: 'changes pg_catalog.pg_class in a system schema' },
  { sql: 'GRANT ALL ON ALL TABLES IN SCHEMA pg_catalog TO PUBLIC', message: 'changes the system schema pg_catalog' },
  { sql: 'GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_file(text) TO app', message: 'changes pg_catalog.pg_read_file in a system schema' },
  { sql: 'REVOKE EXECUTE ON FUNCTION lower(text) FROM PUBLIC', message: 'changes privileges or labels of lower, which may be a built-in; qualify it with its schema' },
  { sql: 'GRANT CREATE ON SCHEMA "Information_Schema" TO app', message: 'changes the system schema Information_Schema' },
  { sql: 'GRANT USAGE ON TYPE pg_catalog.int4 TO app', message: 'changes pg_catalog.int4 in a system schema' },
  { sql: "SECURITY LABEL ON TABLE pg_catalog.pg_class IS 'x'", message: 'changes pg_catalog.pg_class in a system schema' },
  { sql: "SECURITY LABEL FOR selinux ON SCHEMA pg_catalog IS 'x'", message: 'changes the system schema pg_catalog' },
  { sql: 'REINDEX SYSTEM test', message: "REINDEX SYSTEM rebuilds the system catalogs' indexes" },
  { sql: 'REINDEX DATABASE test', message: "REINDEX DATABASE rebuilds the system catalogs' indexes too" },
  { sql: 'REINDEX SCHEMA pg_catalog', message: 'changes the system schema pg_catalog' },
  { sql: 'VACUUM pg_class', message: 'changes pg_class, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'VACUUM (ANALYZE)', message: 'VACUUM/ANALYZE without a table list processes the system catalogs too' },
  { sql: 'CLUSTER pg_authid USING pg_authid_oid_index', message: 'changes pg_authid, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'ALTER DEFAULT PRIVILEGES IN SCHEMA app, pg_catalog GRANT SELECT ON TABLES TO PUBLIC', message: 'changes the system schema pg_catalog' },
  { sql: 'CREATE POLICY p ON pg_catalog.pg_class USING (true)', message: 'changes pg_catalog.pg_class in a system schema' },
  { sql: 'CREATE PUBLICATION pub FOR TABLES IN SCHEMA information_schema', message: 'changes the system schema information_schema' },
  { sql: 'ALTER FUNCTION pg_catalog.lower(text) DEPENDS ON EXTENSION plpgsql', message: 'changes pg_catalog.lower in a system schema' },
  { sql: 'ALTER OPERATOR pg_catalog.= (int, int) SET (RESTRICT = eqsel)', message: 'changes pg_catalog.= in a system schema' },
  { sql: 'ALTER TYPE pg_catalog.int4 SET (STORAGE = plain)', message: 'changes pg_catalog.int4 in a system schema' },
  { sql: "ALTER TYPE pg_catalog.anyenum ADD VALUE 'x'", message: 'changes pg_catalog.anyenum in a system schema' },
  { sql: 'ALTER COLLATION pg_catalog."C" REFRESH VERSION', message: 'changes pg_catalog.C in a system schema' },
  { sql: "CREATE COLLATION pg_catalog.c (locale = 'C')", message: 'changes pg_catalog.c in a system schema' },
  { sql: 'CREATE DOMAIN information_schema.d AS int', message: 'changes information_schema.d in a system schema' },
  { sql: "CREATE TYPE pg_catalog.e AS ENUM ('a')", message: 'changes pg_catalog.e in a system schema' },
  { sql: 'ALTER TEXT SEARCH DICTIONARY pg_catalog.simple (StopWords = english)', message: 'changes pg_catalog.simple in a system schema' },
  { sql: 'ALTER TEXT SEARCH CONFIGURATION pg_catalog.english DROP MAPPING FOR word', message: 'changes pg_catalog.english in a system schema' },
  { sql: 'CREATE OPERATOR FAMILY pg_catalog.f USING btree', message: 'changes pg_catalog.f in a system schema' },
  { sql: 'ALTER STATISTICS pg_catalog.s SET STATISTICS 10', message: 'changes pg_catalog.s in a system schema' },
  { sql: 'CREATE SCHEMA pg_catalog', message: 'changes the system schema pg_catalog' },
  { sql: 'CREATE TABLE t () INHERITS (pg_catalog.pg_class)', message: 'changes pg_catalog.pg_class in a system schema' },
  { sql: 'ALTER TABLE accounts ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES pg_catalog.pg_class (oid)', message: 'changes pg_catalog.pg_class in a system schema' },
  { sql: 'INSERT INTO pg_class SELECT * FROM accounts', message: 'changes pg_class, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'WITH d AS (DELETE FROM pg_authid RETURNING 1) SELECT * FROM d', message: 'changes pg_authid, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  // An unqualified pg_ name is refused even where PostgreSQL would create it in the current schema: qualify it.
  { sql: 'CREATE TABLE pg_notes (id int)', message: 'changes pg_notes, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'ALTER TABLESPACE pg_global SET (seq_page_cost = 1)', message: "changes the server's tablespace pg_global" },
  { sql: 'ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE ts', message: "changes the server's tablespace pg_default" },
  { sql: "CREATE TABLESPACE ts LOCATION '/tmp/airlock-ts'", message: 'CREATE TABLESPACE writes to server directories' },
  { sql: 'LOCK TABLE pg_toast.pg_toast_2619', message: 'changes pg_toast.pg_toast_2619 in a system schema' },
  // Every object in a list is checked, not only the first.
  { sql: 'GRANT USAGE ON TYPE app.t, pg_catalog.int4 TO app', message: 'changes pg_catalog.int4 in a system schema' },
  { sql: 'GRANT ALL ON SCHEMA app, pg_catalog TO app', message: 'changes the system schema pg_catalog' },
  // One named object, unqualified: a pg_ name is found in pg_catalog first.
  { sql: "COMMENT ON TABLE pg_class IS 'x'", message: 'changes pg_class, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'ALTER FUNCTION pg_read_file(text) OWNER TO app', message: 'changes pg_read_file, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'DROP TABLESPACE pg_default', message: "changes the server's tablespace pg_default" },
  { sql: 'ALTER TABLE ALL IN TABLESPACE "PG_GLOBAL" SET TABLESPACE ts', message: "changes the server's tablespace PG_GLOBAL" },
  { sql: 'LOCK TABLE "PG_AUTHID"', message: 'changes PG_AUTHID, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: 'DROP TABLE pg_notes', message: 'changes pg_notes, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: "SECURITY LABEL ON TABLE pg_class IS 'x'", message: 'changes pg_class, which an unqualified name finds in pg_catalog first; qualify it with its schema' },
  { sql: "SECURITY LABEL ON TYPE pg_catalog.int4 IS 'x'", message: 'changes pg_catalog.int4 in a system schema' },
  { sql: 'CREATE OPERATOR CLASS pg_catalog.c FOR TYPE int USING btree AS OPERATOR 1 <', message: 'changes pg_catalog.c in a system schema' },
  // Privileges and labels of functions, procedures, routines, types, domains and aggregates: unqualified, the name may be a built-in.
  { sql: 'GRANT EXECUTE ON PROCEDURE p() TO app', message: 'changes privileges or labels of p, which may be a built-in; qualify it with its schema' },
  { sql: 'GRANT ALL ON ROUTINE r() TO app', message: 'changes privileges or labels of r, which may be a built-in; qualify it with its schema' },
  { sql: 'GRANT USAGE ON TYPE int4 TO app', message: 'changes privileges or labels of int4, which may be a built-in; qualify it with its schema' },
  { sql: 'GRANT USAGE ON DOMAIN d TO app', message: 'changes privileges or labels of d, which may be a built-in; qualify it with its schema' },
  { sql: "SECURITY LABEL ON DOMAIN d IS 'x'", message: 'changes privileges or labels of d, which may be a built-in; qualify it with its schema' },
  { sql: "SECURITY LABEL ON AGGREGATE count(*) IS 'x'", message: 'changes privileges or labels of count, which may be a built-in; qualify it with its schema' },
]

/** Neighbours a read-write grant keeps: ordinary objects, and system types, collations and functions used, not changed. */
export const postgresOrdinaryTargets: readonly string[] = [
  'LOCK TABLE accounts IN SHARE MODE',
  'GRANT SELECT ON accounts TO app',
  'REVOKE EXECUTE ON FUNCTION app.f(int) FROM PUBLIC',
  'GRANT USAGE ON SCHEMA app TO app',
  'REINDEX TABLE accounts',
  'VACUUM (ANALYZE) accounts',
  'ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO app',
  'CREATE POLICY p ON accounts USING (owner = current_user)',
  "ALTER TYPE app.mood ADD VALUE 'sad'",
  'CREATE TABLE t (a pg_catalog.int4 COLLATE pg_catalog."default", b pg_catalog.text DEFAULT pg_catalog.now())',
  'CREATE INDEX ON accounts (owner pg_catalog.text_pattern_ops)',
  'ALTER TABLE accounts ALTER COLUMN owner TYPE pg_catalog.text',
  'CREATE DOMAIN app.d AS pg_catalog.int4',
  'ALTER TABLE ALL IN TABLESPACE ts SET TABLESPACE pg_default',
  'CREATE VIEW v AS SELECT relname FROM pg_catalog.pg_class',
  'CREATE TABLE app.pg_notes (id int)',
  // Row statements read their other relations; only the one they write is a target.
  'UPDATE accounts SET owner = c.relname FROM pg_catalog.pg_class c WHERE c.oid::int = accounts.id',
  'DELETE FROM accounts USING information_schema.tables t WHERE t.table_name = accounts.owner',
  'MERGE INTO accounts a USING pg_catalog.pg_class c ON a.id = c.oid::int WHEN MATCHED THEN DELETE',
  'INSERT INTO accounts (id) SELECT oid::int FROM pg_catalog.pg_class',
  'DROP FUNCTION f(int)',
  "SECURITY LABEL ON TABLE accounts IS 'x'",
  "SECURITY LABEL ON FUNCTION app.f(int) IS 'x'",
  'REINDEX SCHEMA app',
  'CREATE SCHEMA app2',
  'CREATE PUBLICATION pub FOR TABLES IN SCHEMA app',
  'LOCK TABLE app.pg_class',
  'ALTER TABLESPACE ts SET (seq_page_cost = 1)',
  'CREATE OPERATOR CLASS app.c FOR TYPE int USING btree AS OPERATOR 1 <',
  "CREATE COLLATION app.c (locale = 'C')",
  'ALTER STATISTICS app.s SET STATISTICS 10',
  // Objects and columns that only carry a system schema's name.
  "CREATE COLLATION pg_catalog (locale = 'C')",
  'CREATE INDEX ON accounts (information_schema)',
  "COMMENT ON TABLE accounts IS 'x'",
  'ALTER FUNCTION f(int) OWNER TO app',
  "COMMENT ON FUNCTION f(int) IS 'x'",
  'ALTER DOMAIN app.d DROP CONSTRAINT information_schema',
  'CREATE TEXT SEARCH CONFIGURATION app.c (PARSER = pg_catalog."default")',
]

/** MySQL/MariaDB reads of server state that the opt-in allows. */
export const mysqlCatalogReads: readonly { readonly sql: string; readonly names: string }[] = [
  { sql: 'SELECT * FROM mysql.db', names: 'mysql.db' },
  { sql: 'WITH u AS (SELECT * FROM mysql.user) SELECT * FROM u', names: 'mysql.user' },
  { sql: 'SELECT (SELECT authentication_string FROM mysql.user LIMIT 1)', names: 'mysql.user' },
  { sql: 'SELECT * FROM Information_Schema.USER_PRIVILEGES', names: 'information_schema.user_privileges' },
  { sql: 'SELECT * FROM accounts a JOIN performance_schema.threads t ON true', names: 'performance_schema.threads' },
  { sql: 'SELECT * FROM sys.session', names: 'sys.session' },
  { sql: 'SHOW CREATE TABLE mysql.user', names: 'mysql.user' },
  { sql: 'SHOW BINLOG EVENTS', names: 'SHOW BINLOG EVENTS' },
  { sql: 'SHOW GRANTS', names: 'SHOW GRANTS' },
  { sql: 'SHOW TRIGGERS', names: 'SHOW TRIGGERS' },
  { sql: 'SELECT @@secure_file_priv', names: '@@secure_file_priv' },
  { sql: 'SELECT @@session.init_connect', names: '@@session.init_connect' },
  { sql: 'SELECT @@version.x', names: '@@version.x' },
  { sql: 'SHOW CREATE VIEW sys.session', names: 'sys.session' },
  { sql: 'SHOW INDEXES FROM mysql.user', names: 'mysql.user' },
  { sql: 'SHOW CREATE TRIGGER t', names: 'SHOW CREATE TRIGGER' },
  { sql: 'SHOW FUNCTION STATUS', names: 'SHOW FUNCTION STATUS' },
]

/** MySQL schema reads every grant keeps. */
export const mysqlHarmlessCatalogReads: readonly string[] = [
  "SELECT table_name FROM information_schema.tables WHERE table_schema = 'test'",
  'SELECT * FROM INFORMATION_SCHEMA.COLUMNS',
  'SELECT * FROM information_schema.statistics s JOIN information_schema.key_column_usage k ON true',
  'SHOW TABLES',
  'SHOW DATABASES',
  'SHOW INDEX FROM accounts',
  'SHOW CREATE TABLE accounts',
  'SELECT @@version, @@GLOBAL.time_zone, @@sql_mode',
  'SELECT * FROM app.user',
  // A back-quoted "mysql.user" is one name: a table of the current database.
  'SELECT * FROM `mysql.user`',
  'SHOW CHARACTER SET',
  'SHOW COLLATION',
  'SHOW CREATE VIEW v',
  'SHOW INDEXES FROM accounts',
]

/** Writes to MySQL system schemas: refused for read-write grants, opt-in or not. */
export const mysqlSystemWrites: readonly { readonly sql: string; readonly message: string }[] = [
  { sql: "UPDATE mysql.user SET authentication_string = '' WHERE user = 'root'", message: 'writes to mysql.user in a system schema' },
  { sql: 'INSERT INTO mysql.db SELECT * FROM mysql.db', message: 'writes to mysql.db in a system schema' },
  { sql: 'DELETE FROM `MYSQL`.global_priv', message: 'writes to MYSQL.global_priv in a system schema' },
  { sql: 'TRUNCATE TABLE mysql.general_log', message: 'writes to mysql.general_log in a system schema' },
  { sql: 'CREATE TABLE sys.t (a int)', message: 'writes to sys.t in a system schema' },
  { sql: 'DROP TABLE performance_schema.x', message: 'writes to performance_schema.x in a system schema' },
]
