import { createHash } from 'node:crypto'
import { z } from 'zod'
import { AUDIT_IDENTIFIER } from '../config.js'
import { AuditError, ConfigError } from '../errors.js'
import { dbErrorCode, lastRowsOf, withPooledClient, type AuditDbPool } from './audit-database.js'


/** The tables of one deployment's audit trail and the lock that serialises its chain. */
export interface PostgresAuditTables {
  /** `"schema"."table"`: the records. */
  readonly records: string
  /** `"schema"."table_checkpoints"`: the signed checkpoints. */
  readonly checkpoints: string
  /** For messages: schema.table without quotes. */
  readonly label: string
  /**
   * Key of the transaction-scoped advisory lock every writer of this chain takes before reading
   * the head: derived from the schema and table, so deployments sharing a database do not contend.
   */
  readonly lockKey: string
  readonly schema: string
  readonly table: string
}

/** Names the tables; throws ConfigError CONFIG_INVALID for a schema or table that is not a plain identifier. */
export function postgresAuditTables(schema: string, table: string): PostgresAuditTables {
  for (const [what, name] of [['schema', schema], ['table', table]] as const) {
    if (!AUDIT_IDENTIFIER.test(name)) throw new ConfigError('CONFIG_INVALID', `audit ${what} ${JSON.stringify(name)}: expected a lower-case identifier (a-z, 0-9, _), at most 40 characters`)
  }
  const digest = createHash('sha256').update(`airlock-audit\0${schema}.${table}`).digest()
  return {
    records: `"${schema}"."${table}"`,
    checkpoints: `"${schema}"."${table}_checkpoints"`,
    label: `${schema}.${table}`,
    lockKey: digest.readBigInt64BE(0).toString(),
    schema,
    table,
  }
}

/** Statements creating one deployment's tables: append-only by trigger, and without UPDATE/DELETE/TRUNCATE grants. */
export function createTablesSql(t: PostgresAuditTables): string {
  const guard = `"${t.schema}"."${t.table}_append_only"`
  return `
CREATE TABLE IF NOT EXISTS ${t.records} (
  seq bigint PRIMARY KEY,
  ts timestamptz NOT NULL,
  type text NOT NULL,
  subject text,
  correlation_id text,
  hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  line text NOT NULL
);
CREATE INDEX IF NOT EXISTS "${t.table}_ts_idx" ON ${t.records} (ts);
CREATE INDEX IF NOT EXISTS "${t.table}_subject_idx" ON ${t.records} (subject, ts);
CREATE INDEX IF NOT EXISTS "${t.table}_correlation_idx" ON ${t.records} (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${t.checkpoints} (
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  checkpoint text NOT NULL
);
CREATE INDEX IF NOT EXISTS "${t.table}_checkpoints_seq_idx" ON ${t.checkpoints} (seq);
CREATE OR REPLACE FUNCTION ${guard}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'airlock audit: % on %.% refused: the audit trail is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;
DROP TRIGGER IF EXISTS "${t.table}_append_only" ON ${t.records};
CREATE TRIGGER "${t.table}_append_only" BEFORE UPDATE OR DELETE ON ${t.records} FOR EACH ROW EXECUTE FUNCTION ${guard}();
DROP TRIGGER IF EXISTS "${t.table}_no_truncate" ON ${t.records};
CREATE TRIGGER "${t.table}_no_truncate" BEFORE TRUNCATE ON ${t.records} FOR EACH STATEMENT EXECUTE FUNCTION ${guard}();
DROP TRIGGER IF EXISTS "${t.table}_checkpoints_append_only" ON ${t.checkpoints};
CREATE TRIGGER "${t.table}_checkpoints_append_only" BEFORE UPDATE OR DELETE ON ${t.checkpoints} FOR EACH ROW EXECUTE FUNCTION ${guard}();
DROP TRIGGER IF EXISTS "${t.table}_checkpoints_no_truncate" ON ${t.checkpoints};
CREATE TRIGGER "${t.table}_checkpoints_no_truncate" BEFORE TRUNCATE ON ${t.checkpoints} FOR EACH STATEMENT EXECUTE FUNCTION ${guard}();
REVOKE UPDATE, DELETE, TRUNCATE ON ${t.records}, ${t.checkpoints} FROM PUBLIC, CURRENT_USER;
`
}

const presence = z.looseObject({ records: z.string().nullable(), checkpoints: z.string().nullable() })

/**
 * Creates the tables when either is missing (under the chain's lock, so replicas starting together
 * do not race), then checks that both have the columns the sink writes. A role that may only
 * INSERT and SELECT works once an owner has created them (docs/audit-postgres.md).
 *
 * Throws AuditError AUDIT_WRITE_FAILED when PostgreSQL cannot be reached, ConfigError
 * CONFIG_INVALID when the tables cannot be created or do not have the expected columns.
 */
export async function ensurePostgresAuditTables(pool: AuditDbPool, t: PostgresAuditTables): Promise<void> {
  // Stage decides the error: unreachable (fail closed, retry later) or not our tables (operator).
  let stage: 'connect' | 'create' | 'check' = 'connect'
  try {
    await withPooledClient(pool, async (client) => {
      stage = 'create'
      const found = lastRowsOf(
        await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${t.lockKey}); SELECT to_regclass('${t.records}')::text AS records, to_regclass('${t.checkpoints}')::text AS checkpoints`),
        presence,
      )[0]
      if (found?.records === null || found?.checkpoints === null) await client.query(createTablesSql(t))
      await client.query('COMMIT')
      stage = 'check'
      await client.query(`SELECT seq, ts, type, subject, correlation_id, hash, line FROM ${t.records} WHERE false`)
      await client.query(`SELECT seq, ts, checkpoint FROM ${t.checkpoints} WHERE false`)
    })
  } catch (error) {
    const code = dbErrorCode(error)
    if (stage === 'connect') throw new AuditError('AUDIT_WRITE_FAILED', `audit table ${t.label}: PostgreSQL unreachable (${code})`, { cause: error })
    if (stage === 'create') throw new ConfigError('CONFIG_INVALID', `audit table ${t.label}: cannot create the audit tables (${code}); see docs/audit-postgres.md for the grants`, { cause: error })
    throw new ConfigError('CONFIG_INVALID', `audit table ${t.label}: not an Airlock audit table, or not readable (${code})`, { cause: error })
  }
}
