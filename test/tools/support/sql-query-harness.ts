import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import type { Principal } from '../../../src/auth/principal.js'
import type { AwsClients } from '../../../src/aws/aws-clients.js'
import { createAwsClients } from '../../../src/cli/create-aws-clients.js'
import { systemClock } from '../../../src/clock.js'
import { AirlockError } from '../../../src/errors.js'
import { rdsDataConnectionSchema, type NamedConnection, type RdsDataConnection } from '../../../src/policy/connection-schema.js'
import { grantSchema } from '../../../src/policy/policy-schema.js'
import type { PolicyGrant } from '../../../src/policy/policy.js'
import { resolveGrant } from '../../../src/policy/resolve-grant.js'
import { createMysqlBackend } from '../../../src/sandbox/rds-data/mysql-backend.js'
import { createPgBackend } from '../../../src/sandbox/rds-data/pg-backend.js'
import type { SqlBackend } from '../../../src/sandbox/rds-data/rds-data-types.js'
import { startRdsDataEmulator } from '../../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../../../src/sandbox/sigv4/credential-store.js'
import { createTrail, type Trail, type TrailEntry } from '../../../src/sandbox/trail.js'
import { createToolDeps } from '../../../tools/create-tool-deps.js'
import type { ProgressUpdate, ToolContext, ToolResult } from '../../../tools/define-tool.js'
import sqlQuery from '../../../tools/sql-query.js'
import { runStatement, type RunStatementOptions } from '../../../tools/sql-query/run-statement.js'
import { createMysqlTable, createPgTable, MYSQL_URI, PG_URL } from './sql-test-databases.js'

export const KEY = { accessKeyId: 'AKIAIOSFODNN7SQLTEST', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSQLTESTKEY' }
export const GATEWAY = 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock'
export const PG_CLUSTER = 'arn:aws:rds:eu-west-1:111122223333:cluster:airlock-pg'
export const PG_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:pg-admin'
export const PG_RO_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:pg-reader'
export const MY_CLUSTER = 'arn:aws:rds:eu-west-1:111122223333:cluster:airlock-mysql'
export const MY_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mysql-admin'

export const principal: Principal = { issuer: 'https://idp.example.com', subject: 'alice', groups: ['data'], expiresAt: 4_000_000_000 }

export type Args = z.infer<z.ZodObject<typeof sqlQuery.input>>

export interface CallOptions {
  readonly grant?: PolicyGrant
  readonly connection?: NamedConnection<RdsDataConnection>
  readonly signal?: AbortSignal
  readonly progress?: (update: ProgressUpdate) => void
}

/** A grant as a built policy holds it: without a sql block it gets the defaults (read-only). */
export function grant(sql: Record<string, unknown> | undefined): PolicyGrant {
  return resolveGrant(grantSchema.parse({ id: 'data-sql', groups: ['data'], connections: ['db'], tools: ['sql_query'], sql: sql ?? {} }))
}

export function connection(input: Record<string, unknown>): NamedConnection<RdsDataConnection> {
  return { ...rdsDataConnectionSchema.parse({ kind: 'rds-data', region: 'eu-west-1', database: 'test', ...input }), id: 'db' }
}

export const pgConn = connection({ engine: 'postgres', resourceArn: PG_CLUSTER, secretArn: PG_SECRET })
export const pgConnWithReader = connection({ engine: 'postgres', resourceArn: PG_CLUSTER, secretArn: PG_SECRET, readOnlySecretArn: PG_RO_SECRET })
export const myConn = connection({ engine: 'mysql', resourceArn: MY_CLUSTER, secretArn: MY_SECRET })
export const readOnly = grant(undefined)
export const readWrite = grant({ mode: 'read-write' })

export const actions = (calls: readonly TrailEntry[]) => calls.map((c) => `${c.action}:${c.outcome}`)

export interface UnguardedOptions {
  readonly database?: string
  readonly mysqlFlavours?: RunStatementOptions['mysqlFlavours']
  /** 5 s unless told. */
  readonly timeoutMs?: number
  /** The guard's catalog probe, as the tool would pass it for some read (none unless told). */
  readonly builtinProbe?: RunStatementOptions['builtinProbe']
}

/** A scratch table, the emulator in front of it, and the tool wired with the real SDK client. */
export interface SqlQueryHarness {
  readonly table: string
  readonly trail: Trail
  readonly aws: AwsClients
  readonly endpoint: string
  /** Digest of the scratch table, read directly from the database. */
  checksum(): Promise<string>
  /** A statement run directly on the database (setup and checks). */
  query(sql: string): Promise<unknown[]>
  ctx(args: Args, options?: CallOptions): ToolContext<Args, 'rds-data'>
  run(args: Args, options?: CallOptions): Promise<{ result: ToolResult; calls: readonly TrailEntry[] }>
  refused(args: Args, code: string, options?: CallOptions): Promise<{ error: AirlockError; calls: readonly TrailEntry[] }>
  /**
   * A read-only statement through the Data API exactly as the tool runs it, but without the guard:
   * what the database layer alone does with it.
   */
  unguarded(sql: string, options?: UnguardedOptions): ReturnType<typeof runStatement>
  close(): Promise<void>
}

/** `backendUri`: the database the emulator's backend connects to, when not the shared `test` one. */
export async function startSqlQueryHarness(engine: 'postgres' | 'mysql', options: { readonly backendUri?: string } = {}): Promise<SqlQueryHarness> {
  const table = `airlock_sq_${randomBytes(4).toString('hex')}`
  const trail = createTrail(systemClock)
  const db = engine === 'postgres' ? await createPgTable(table) : await createMysqlTable(table)
  const backend: SqlBackend = engine === 'postgres' ? createPgBackend({ connectionString: options.backendUri ?? PG_URL }) : createMysqlBackend({ uri: options.backendUri ?? MYSQL_URI })
  const secrets = engine === 'postgres' ? { [PG_SECRET]: { backend }, [PG_RO_SECRET]: { backend, readOnly: true } } : { [MY_SECRET]: { backend } }
  const emulator = await startRdsDataEmulator({
    store: createCredentialStore([{ ...KEY, principalArn: GATEWAY }]),
    trail,
    clock: systemClock,
    clusters: [{ resourceArn: engine === 'postgres' ? PG_CLUSTER : MY_CLUSTER, secrets }],
  })
  const aws = createAwsClients({ credentials: async () => KEY, endpoints: { rdsData: emulator.endpoint } })
  const deps = createToolDeps({ aws, clock: systemClock })
  const fallback = engine === 'postgres' ? pgConn : myConn

  function ctx(args: Args, options: CallOptions = {}): ToolContext<Args, 'rds-data'> {
    return {
      principal,
      grant: options.grant ?? readOnly,
      connection: options.connection ?? fallback,
      args,
      deps,
      signal: options.signal ?? new AbortController().signal,
      progress: async (update) => options.progress?.(update),
      activations: async () => new Map(),
      policy: { connections: new Map(), grants: [], sources: new Map(), toolScopes: new Map(), fingerprint: 'unused-by-this-tool' },
    }
  }

  return {
    table,
    trail,
    aws,
    endpoint: emulator.endpoint,
    checksum: () => db.checksum(),
    query: (sql) => db.query(sql),
    ctx,
    async run(args, options = {}) {
      const start = trail.entries().length
      const result = await sqlQuery.handler(ctx(args, options))
      return { result, calls: trail.entries().slice(start) }
    },
    async refused(args, code, options = {}) {
      const start = trail.entries().length
      let caught: unknown
      await assert.rejects(sqlQuery.handler(ctx(args, options)), (e: unknown) => {
        caught = e
        assert.ok(e instanceof AirlockError, String(e))
        assert.equal(e.code, code, e.message)
        return true
      })
      assert.ok(caught instanceof AirlockError, 'expected: caught instanceof AirlockError')
      return { error: caught, calls: trail.entries().slice(start) }
    },
    unguarded: (sql, options = {}) =>
      runStatement({
        client: aws.rdsData({ region: 'eu-west-1', principal }),
        engine,
        mode: 'read-only',
        resourceArn: engine === 'postgres' ? PG_CLUSTER : MY_CLUSTER,
        secretArn: engine === 'postgres' ? PG_SECRET : MY_SECRET,
        database: options.database ?? 'test',
        sql,
        parameters: [],
        timeoutMs: options.timeoutMs ?? 5000,
        clock: systemClock,
        signal: new AbortController().signal,
        progress: () => undefined,
        ...(options.mysqlFlavours === undefined ? {} : { mysqlFlavours: options.mysqlFlavours }),
        ...(options.builtinProbe === undefined ? {} : { builtinProbe: options.builtinProbe }),
      }),
    async close() {
      await emulator.close()
      await backend.close()
      await db.drop()
    },
  }
}
