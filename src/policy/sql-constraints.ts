import { z } from 'zod'

export const MAX_ROWS_HARD_CAP = 10_000

const maskRule = z.enum(['redact', 'hash', 'last4'])

/** Limits a grant puts on `sql_query`. */
export const sqlConstraintsSchema = z.strictObject({
  mode: z.enum(['read-only', 'read-write']).default('read-only'),
  maxRows: z.number().int().min(1).max(MAX_ROWS_HARD_CAP).default(1000),
  timeoutSeconds: z.number().int().min(1).max(45).default(30),
  /** Column globs (`*.email`, `users.ssn`) → how their values are masked. */
  maskColumns: z.record(z.string().regex(/^[\w*?$]+(\.[\w*?$]+)?$/, 'expected "column" or "table.column" (globs allowed)'), maskRule).default({}),
  /** Value detectors, applied to every string cell. */
  detectors: z
    .strictObject({
      awsKeys: z.boolean().default(true),
      emails: z.boolean().default(true),
      cardNumbers: z.boolean().default(true),
    })
    .default({ awsKeys: true, emails: true, cardNumbers: true }),
  /**
   * Lets statements read system catalogs and server state (pg_authid, pg_stat_activity,
   * mysql.user, information_schema.PROCESSLIST, performance_schema, SHOW PROCESSLIST, server
   * settings and variables). Off by default: with a privileged database user these hold
   * password hashes and other sessions' SQL. Changing system objects stays refused.
   */
  allowSystemCatalogs: z.boolean().default(false),
})
export type SqlConstraints = z.infer<typeof sqlConstraintsSchema>

/** What a grant reaching an rds-data connection without a `sql` block gets: read-only and the defaults above. */
export const DEFAULT_SQL_CONSTRAINTS: SqlConstraints = sqlConstraintsSchema.parse({})
