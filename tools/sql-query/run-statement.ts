import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data'
import type { ExecuteStatementCommandOutput, RDSDataClient, SqlParameter } from '@aws-sdk/client-rds-data'
import type { BoundedCache } from '../../src/aws/bounded-cache.js'
import { CLEANUP_TIMEOUT_MS, sendBounded, type SendOptions } from '../../src/aws/bounded-send.js'
import { unknownOutcome } from '../../src/aws/request-outcome.js'
import type { Clock } from '../../src/clock.js'
import { GuardError, UpstreamError } from '../../src/errors.js'
import { judgeBuiltinProbe, type BuiltinProbe } from '../../src/guard/sql/builtin-probe.js'
import { mapRdsDataError } from './map-rds-data-error.js'
import { judgePostgresReadOnlySetup, postgresReadOnlySetup } from './postgres-read-only-setup.js'

/** The client waits this much past the grant's limit, so the database's own timeout answers first. */
const CLIENT_GRACE_MS = 1_000

export interface RunStatementOptions {
  readonly client: RDSDataClient
  readonly engine: 'postgres' | 'mysql'
  readonly mode: 'read-only' | 'read-write'
  readonly resourceArn: string
  readonly secretArn: string
  readonly database: string
  readonly sql: string
  readonly parameters: readonly SqlParameter[]
  /** The grant's limit for the whole call, end to end. */
  readonly timeoutMs: number
  readonly clock: Clock
  /** The caller's cancellation. */
  readonly signal: AbortSignal
  readonly progress: (message: string) => void
  /**
   * Whether a MySQL-engine cluster is MariaDB or MySQL (they name their statement limits
   * differently), per resourceArn, kept across calls; without it every call asks the server.
   */
  readonly mysqlFlavours?: BoundedCache<boolean>
  /** Read-only grants: the guard's catalog query, which must find nothing before the statement runs. */
  readonly builtinProbe?: BuiltinProbe
}

export interface RunStatementResult {
  readonly output: ExecuteStatementCommandOutput
  /** False when the closing rollback failed (the Data API drops an idle transaction after 3 minutes). */
  readonly rolledBack: boolean
}

/** At least 1 ms: 0 would mean no limit to the database. */
const boundedMs = (ms: number) => Math.max(1, Math.floor(ms))

/** The database-side limit, as statements the gateway runs in its transaction before the caller's. */
function limitStatements(engine: 'postgres' | 'mysql', mariadb: boolean, ms: number): { sql: string; parameters: SqlParameter[] } {
  const bounded = boundedMs(ms)
  if (engine === 'postgres') {
    // Local to this transaction; the guard parsed with standard strings, so the server must too.
    return {
      sql: "SELECT set_config('statement_timeout', :ms, true), set_config('standard_conforming_strings', 'on', true)",
      parameters: [{ name: 'ms', value: { stringValue: String(bounded) } }],
    }
  }
  // MariaDB stops any statement (seconds, microsecond precision); MySQL stops read-only SELECTs (ms).
  return mariadb
    ? { sql: `SET SESSION max_statement_time = ${(bounded / 1000).toFixed(3)}`, parameters: [] }
    : { sql: `SET SESSION max_execution_time = ${bounded}`, parameters: [] }
}

/**
 * The statement that makes the rest of a read-only MySQL call's transaction read-only in the
 * database (PostgreSQL changes the transaction the Data API began: see postgresReadOnlySetup).
 * MySQL refuses to change a transaction's characteristics once it has begun (error 1568) and
 * `SET SESSION TRANSACTION READ ONLY` only reaches the next transaction, so there the gateway
 * starts a read-only one on the same connection: `START TRANSACTION` first ends the Data API's,
 * in which nothing has run yet, and the closing RollbackTransaction ends the read-only one.
 */
const MYSQL_READ_ONLY = 'START TRANSACTION READ ONLY'

/**
 * Runs one already-checked statement in its own Data API transaction, bounded end to end by the
 * grant's timeout: the database stops the statement itself (PostgreSQL statement_timeout, MariaDB
 * max_statement_time, MySQL max_execution_time for reads), every Data API call carries the
 * caller's signal and the deadline, and the closing rollback has its own short deadline.
 * Read-only grants always end in RollbackTransaction (also on error, timeout or cancellation);
 * their transactions are also read-only in the database (see postgresReadOnlySetup and
 * MYSQL_READ_ONLY), so the server refuses writes the guard missed (not MySQL DDL, which commits
 * and leaves the transaction: there the guard and a read-only database user, `readOnlySecretArn`,
 * are the layers), and run the
 * guard's catalog probe first, refusing with SQL_FUNCTION_NOT_BUILTIN when it finds user-defined
 * code the statement could reach (on PostgreSQL, read-only, the limits and the probe are one
 * round trip). Read-write grants commit on success.
 * @throws GuardError SQL_FUNCTION_NOT_BUILTIN
 * @throws UpstreamError DB_ERROR, DB_TIMEOUT, CANCELLED, AWS_OUTCOME_UNKNOWN (a read-write
 *   statement or commit that may have taken effect), AWS_* (see mapRdsDataError)
 */
export async function runStatement(options: RunStatementOptions): Promise<RunStatementResult> {
  const { client, resourceArn, secretArn, database, clock } = options
  const deadlineAt = clock.now() + options.timeoutMs
  let transactionId: string | undefined
  let committed = false
  let rolledBack = false
  let step = 'BeginTransaction'
  let output: ExecuteStatementCommandOutput | undefined
  const bounded = <T>(send: (o: SendOptions) => Promise<T>): Promise<T> => {
    const left = deadlineAt + CLIENT_GRACE_MS - clock.now()
    return sendBounded(send, { label: step, signal: options.signal, timeoutMs: left, httpTimeoutMs: left })
  }
  const execute = (sql: string, parameters: readonly SqlParameter[] = []) =>
    bounded((o) =>
      client.send(
        new ExecuteStatementCommand({
          resourceArn,
          secretArn,
          database,
          sql,
          parameters: [...parameters],
          ...(transactionId === undefined ? {} : { transactionId }),
          includeResultMetadata: true,
          resultSetOptions: { decimalReturnType: 'STRING' },
        }),
        o,
      ),
    )
  let failure: unknown
  try {
    if (options.signal.aborted) throw new UpstreamError('CANCELLED', 'cancelled before BeginTransaction')
    const begun = await bounded((o) => client.send(new BeginTransactionCommand({ resourceArn, secretArn, database }), o))
    transactionId = begun.transactionId
    if (transactionId === undefined || transactionId === '') throw new UpstreamError('AWS_ERROR', 'BeginTransaction returned no transactionId')
    step = 'transaction setup'
    if (options.engine === 'postgres' && options.mode === 'read-only') {
      // Read-only, the limits and the catalog probe in one round trip (see postgres-read-only-setup.ts).
      const ms = boundedMs(deadlineAt - clock.now())
      const setup = postgresReadOnlySetup(ms, options.builtinProbe)
      judgePostgresReadOnlySetup((await execute(setup.sql, setup.parameters)).records, ms)
    } else {
      // Read-write on PostgreSQL: the limits only. MySQL/MariaDB cannot fold these into one
      // statement: a read-only transaction has to be started by a statement of its own, and their
      // limits are SET statements, not functions. Read-only comes before the caller's statement,
      // so the server refuses any write the guard missed.
      if (options.mode === 'read-only') await execute(MYSQL_READ_ONLY)
      let mariadb = options.mysqlFlavours?.get([resourceArn])
      if (options.engine === 'mysql' && mariadb === undefined) {
        mariadb = /mariadb/i.test((await execute('SELECT VERSION()')).records?.[0]?.[0]?.stringValue ?? '')
        options.mysqlFlavours?.set([resourceArn], mariadb)
      }
      const limit = limitStatements(options.engine, mariadb === true, deadlineAt - clock.now())
      await execute(limit.sql, limit.parameters)
      if (options.builtinProbe !== undefined) {
        step = 'builtin probe'
        const probed = await execute(options.builtinProbe.sql, [{ name: 'names', value: { stringValue: options.builtinProbe.names } }])
        judgeBuiltinProbe((probed.records ?? []).map((record) => record.map((field) => field.stringValue)))
      }
    }
    step = 'ExecuteStatement'
    options.progress('executing')
    output = await execute(options.sql, options.parameters)
    if (options.mode === 'read-write') {
      step = 'CommitTransaction'
      await bounded((o) => client.send(new CommitTransactionCommand({ resourceArn, secretArn, transactionId }), o))
      committed = true
    }
  } catch (error) {
    failure = error
  } finally {
    if (transactionId !== undefined && !committed) {
      // Not tied to the caller's signal: a cancelled call must still end its transaction.
      rolledBack = await sendBounded((o) => client.send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId }), o), {
        label: 'RollbackTransaction',
        signal: undefined,
        timeoutMs: CLEANUP_TIMEOUT_MS,
        httpTimeoutMs: CLEANUP_TIMEOUT_MS,
      })
        // The service ends some transactions itself (e.g. after a result too large to return).
        .then(() => true, (error: unknown) => error instanceof Error && error.name === 'TransactionNotFoundException')
    }
  }
  if (failure !== undefined) throw classify(failure, options, step, rolledBack)
  if (output === undefined) throw new UpstreamError('AWS_ERROR', 'ExecuteStatement returned nothing')
  return { output, rolledBack }
}

function classify(error: unknown, options: RunStatementOptions, step: string, rolledBack: boolean): UpstreamError | GuardError {
  if (error instanceof GuardError) return error
  // A read-write statement may have taken effect if the commit's answer was lost, or if the
  // statement's answer was lost and its rollback cannot be relied on (MySQL DDL commits itself).
  const acted = options.mode === 'read-write' && (step === 'CommitTransaction' || (step === 'ExecuteStatement' && (options.engine === 'mysql' || !rolledBack)))
  const unknown = acted ? unknownOutcome(error, `${step} (${options.mode})`) : undefined
  if (unknown !== undefined) return unknown
  if (options.signal.aborted) return new UpstreamError('CANCELLED', `${step}: cancelled by the caller`, { cause: error })
  if (error instanceof UpstreamError && error.code === 'AWS_TIMEOUT') {
    return new UpstreamError('DB_TIMEOUT', `${step}: no result within ${options.timeoutMs} ms`, { cause: error })
  }
  return mapRdsDataError(error, step)
}
