import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data'
import type { ExecuteStatementCommandOutput, RDSDataClient, SqlParameter } from '@aws-sdk/client-rds-data'
import { UpstreamError } from '../../src/errors.js'
import { mapRdsDataError } from './map-rds-data-error.js'

export interface RunStatementOptions {
  readonly client: RDSDataClient
  readonly engine: 'postgres' | 'mysql'
  readonly mode: 'read-only' | 'read-write'
  readonly resourceArn: string
  readonly secretArn: string
  readonly database: string
  readonly sql: string
  readonly parameters: readonly SqlParameter[]
  readonly timeoutMs: number
  /** The caller's cancellation. */
  readonly signal: AbortSignal
  readonly progress: (message: string) => void
}

export interface RunStatementResult {
  readonly output: ExecuteStatementCommandOutput
  /** False when the closing rollback failed (the Data API drops an idle transaction after 3 minutes). */
  readonly rolledBack: boolean
}

/**
 * Runs one already-checked statement in its own Data API transaction. Read-only grants always
 * end in RollbackTransaction (also on error, timeout or cancellation); PostgreSQL read-only
 * transactions are also declared READ ONLY so the server refuses writes the guard missed.
 * MySQL cannot make a transaction read-only once the Data API has begun it (SET TRANSACTION is
 * refused inside a transaction), so there the guard, the rollback and a read-only database user
 * (`readOnlySecretArn`) are the layers. Read-write grants commit on success.
 * @throws UpstreamError DB_ERROR, DB_TIMEOUT, CANCELLED, AWS_* (see mapRdsDataError)
 */
export async function runStatement(options: RunStatementOptions): Promise<RunStatementResult> {
  const { client, resourceArn, secretArn, database } = options
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs)
  const signal = AbortSignal.any([options.signal, deadline.signal])
  let transactionId: string | undefined
  let committed = false
  let rolledBack = false
  let step = 'BeginTransaction'
  let output: ExecuteStatementCommandOutput | undefined
  const execute = (sql: string, parameters: readonly SqlParameter[] = [], id = transactionId) =>
    client.send(
      new ExecuteStatementCommand({
        resourceArn,
        secretArn,
        database,
        sql,
        parameters: [...parameters],
        ...(id === undefined ? {} : { transactionId: id }),
        includeResultMetadata: true,
        resultSetOptions: { decimalReturnType: 'STRING' },
      }),
      { abortSignal: signal },
    )
  try {
    if (signal.aborted) throw new UpstreamError('CANCELLED', 'aborted before start')
    const begun = await client.send(new BeginTransactionCommand({ resourceArn, secretArn, database }), { abortSignal: signal })
    transactionId = begun.transactionId
    if (transactionId === undefined || transactionId === '') throw new UpstreamError('AWS_ERROR', 'BeginTransaction returned no transactionId')
    if (options.engine === 'postgres') {
      step = 'transaction setup'
      // Before the caller's statement, so the server refuses any write the guard missed.
      if (options.mode === 'read-only') await execute('SET TRANSACTION READ ONLY')
      // Local to this transaction; the guard parsed with standard strings, so the server must too.
      await execute("SELECT set_config('statement_timeout', :ms, true), set_config('standard_conforming_strings', 'on', true)", [
        { name: 'ms', value: { stringValue: String(options.timeoutMs) } },
      ])
    }
    step = 'ExecuteStatement'
    options.progress('executing')
    output = await execute(options.sql, options.parameters)
    if (options.mode === 'read-write') {
      step = 'CommitTransaction'
      await client.send(new CommitTransactionCommand({ resourceArn, secretArn, transactionId }), { abortSignal: signal })
      committed = true
    }
  } catch (error) {
    if (options.signal.aborted) throw new UpstreamError('CANCELLED', `${step}: cancelled by the caller`, { cause: error })
    if (deadline.signal.aborted) throw new UpstreamError('DB_TIMEOUT', `${step}: no result within ${options.timeoutMs} ms`, { cause: error })
    throw mapRdsDataError(error, step)
  } finally {
    clearTimeout(timer)
    if (transactionId !== undefined && !committed) {
      // Not tied to the caller's signal: a cancelled call must still end its transaction.
      rolledBack = await client
        .send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId }))
        // The service ends some transactions itself (e.g. after a result too large to return).
        .then(() => true, (error: unknown) => error instanceof Error && error.name === 'TransactionNotFoundException')
    }
  }
  if (output === undefined) throw new UpstreamError('AWS_ERROR', 'ExecuteStatement returned nothing')
  return { output, rolledBack }
}
