import { resolve } from 'node:path'
import pg from 'pg'
import type { AuditDbClient } from '../audit/audit-database.js'
import { postgresAuditTables, type PostgresAuditTables } from '../audit/postgres-audit-tables.js'
import type { CliIo } from './cli-io.js'
import { loadGatewayConfig } from './load-config.js'

/** Which audit trail a command reads: files (oldest first) or a PostgreSQL table. */
export type AuditSource =
  | {
      readonly kind: 'files'
      /** As the operator named them (for messages), and resolved. */
      readonly files: readonly string[]
      readonly paths: readonly string[]
      /** From --config: the gateway's checkpoint key, whose public half verifies the checkpoints. */
      readonly keyFile?: string
    }
  | { readonly kind: 'postgres'; readonly url: string; readonly tables: PostgresAuditTables; readonly keyFile?: string }

export interface AuditSourceArgs {
  readonly positionals: readonly string[]
  readonly postgres?: string | undefined
  readonly schema?: string | undefined
  readonly table?: string | undefined
  readonly config?: string | undefined
}

/**
 * Exactly one of: file arguments, `--postgres <url>` (with optional `--schema`, `--table`), or
 * `--config <file>` (the gateway's own config, environment overrides included). Returns undefined
 * for a usage error. Throws ConfigError CONFIG_INVALID for a bad config file or table name.
 */
export async function resolveAuditSource(args: AuditSourceArgs, io: CliIo): Promise<AuditSource | undefined> {
  const given = [args.positionals.length > 0, args.postgres !== undefined, args.config !== undefined].filter(Boolean).length
  if (given !== 1) return undefined
  if (args.postgres === undefined && (args.schema !== undefined || args.table !== undefined)) return undefined
  if (args.postgres !== undefined) {
    return { kind: 'postgres', url: args.postgres, tables: postgresAuditTables(args.schema ?? 'public', args.table ?? 'airlock_audit') }
  }
  if (args.config !== undefined) {
    const { audit } = await loadGatewayConfig(args.config, io.env, io.cwd)
    const keyFile = audit.checkpoint === undefined ? {} : { keyFile: audit.checkpoint.keyFile }
    if (audit.sink === 'file') return { kind: 'files', files: [audit.path], paths: [audit.path], ...keyFile }
    return { kind: 'postgres', url: audit.url, tables: postgresAuditTables(audit.schema, audit.table), ...keyFile }
  }
  return { kind: 'files', files: args.positionals, paths: args.positionals.map((file) => resolve(io.cwd, file)) }
}

/** Connects to the audit database for one command and always disconnects. */
export async function withAuditDatabase<T>(url: string, work: (db: AuditDbClient) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'airlock-audit-cli' })
  // A connection dropped while idle must not end the process with an unhandled 'error'.
  client.on('error', () => {})
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => {})
  }
}
