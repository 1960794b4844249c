import { RESPONSE_TOO_LARGE, formatExecuteResponse } from './format-execute-response.js'
import {
  BatchExecuteStatementRequest,
  BeginTransactionRequest,
  EndTransactionRequest,
  ExecuteStatementRequest,
  describeIssues,
} from './rds-data-requests.js'
import { RdsDataError, type SqlBackend, type StatementOptions } from './rds-data-types.js'
import type { TransactionRegistry } from './transaction-registry.js'
import type { z } from 'zod'

export interface SecretBinding {
  readonly backend: SqlBackend
  /** Statements run in read-only transactions, like a database user with SELECT only. */
  readonly readOnly?: boolean
}

export interface OperationContext {
  /** resourceArn → secretArn → binding */
  readonly clusters: ReadonlyMap<string, ReadonlyMap<string, SecretBinding>>
  readonly transactions: TransactionRegistry
  readonly statementTimeoutMs: number
  readonly maxResponseBytes: number
}

export interface OperationOutcome {
  readonly body: string
}

/** What the trail records about a call: where it went and how big, never parameter values. */
export type CallDetail = Record<string, string | number | boolean>

export type Operation = (ctx: OperationContext, input: unknown, detail: CallDetail) => Promise<OperationOutcome>

function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input)
  if (!parsed.success) throw new RdsDataError('BadRequestException', describeIssues(parsed.error))
  return parsed.data
}

function note(detail: CallDetail, req: { resourceArn: string; secretArn: string; database?: string | undefined; sql?: string; transactionId?: string | undefined }) {
  detail.resourceArn = req.resourceArn
  detail.secretArn = req.secretArn
  if (req.database !== undefined) detail.database = req.database
  if (req.sql !== undefined) detail.sqlLength = req.sql.length
  if (req.transactionId !== undefined) detail.transactionId = req.transactionId
}

/**
 * @throws RdsDataError NotFoundException for an unknown resourceArn, BadRequestException for a
 * secret the cluster does not know (AWS cannot fetch it).
 */
function resolve(ctx: OperationContext, resourceArn: string, secretArn: string): SecretBinding {
  const secrets = ctx.clusters.get(resourceArn)
  if (secrets === undefined) throw new RdsDataError('NotFoundException', `Database cluster ${resourceArn} not found.`)
  const binding = secrets.get(secretArn)
  if (binding === undefined) throw new RdsDataError('BadRequestException', 'Error fetching secret: the specified secret was not found or is not accessible.')
  return binding
}

function statementOptions(ctx: OperationContext, binding: SecretBinding, continueAfterTimeout: boolean): StatementOptions {
  return { readOnly: binding.readOnly === true, timeoutMs: ctx.statementTimeoutMs, continueAfterTimeout }
}

export const executeStatement: Operation = async (ctx, input, detail) => {
  const req = parse(ExecuteStatementRequest, input)
  note(detail, req)
  const binding = resolve(ctx, req.resourceArn, req.secretArn)
  if (req.sql.trim() === '') throw new RdsDataError('BadRequestException', 'SQL statement is empty.')
  const options = statementOptions(ctx, binding, req.continueAfterTimeout === true)
  const parameters = req.parameters ?? []
  const result =
    req.transactionId === undefined
      ? await binding.backend.execute(req.sql, parameters, options)
      : await ctx.transactions.use(req.transactionId, req.resourceArn, req.secretArn, (tx) => tx.execute(req.sql, parameters, options))
  try {
    return {
      body: formatExecuteResponse(result, {
        includeResultMetadata: req.includeResultMetadata === true,
        formatRecordsAs: req.formatRecordsAs ?? 'NONE',
        decimalReturnType: req.resultSetOptions?.decimalReturnType ?? 'STRING',
        longReturnType: req.resultSetOptions?.longReturnType ?? 'LONG',
        maxResponseBytes: req.formatRecordsAs === 'JSON' ? ctx.maxResponseBytes * 10 : ctx.maxResponseBytes,
      }),
    }
  } catch (err) {
    // The service ends the transaction when a result is too large to return.
    if (req.transactionId !== undefined && err instanceof RdsDataError && err.message === RESPONSE_TOO_LARGE) {
      await ctx.transactions.finish(req.transactionId, req.resourceArn, req.secretArn, (tx) => tx.rollback()).catch(() => undefined)
    }
    throw err
  }
}

export const batchExecuteStatement: Operation = async (ctx, input, detail) => {
  const req = parse(BatchExecuteStatementRequest, input)
  note(detail, req)
  const binding = resolve(ctx, req.resourceArn, req.secretArn)
  if (req.sql.trim() === '') throw new RdsDataError('BadRequestException', 'SQL statement is empty.')
  const options = statementOptions(ctx, binding, false)
  const sets = req.parameterSets ?? []
  detail.parameterSets = sets.length
  const runAll = async (exec: (params: (typeof sets)[number]) => Promise<{ generatedFields: readonly unknown[] }>) => {
    const updateResults: { generatedFields: readonly unknown[] }[] = []
    for (const params of sets.length === 0 ? [[]] : sets) {
      const r = await exec(params)
      updateResults.push({ generatedFields: r.generatedFields })
    }
    return sets.length === 0 ? [] : updateResults
  }
  let updateResults
  if (req.transactionId !== undefined) {
    updateResults = await ctx.transactions.use(req.transactionId, req.resourceArn, req.secretArn, (tx) =>
      runAll((params) => tx.execute(req.sql, params, options)),
    )
  } else {
    // Outside a transaction the batch is all-or-nothing.
    const tx = await binding.backend.begin({ readOnly: binding.readOnly === true })
    try {
      updateResults = await runAll((params) => tx.execute(req.sql, params, options))
      await tx.commit()
    } catch (err) {
      await tx.rollback().catch(() => undefined)
      throw err
    }
  }
  return { body: JSON.stringify({ updateResults }) }
}

export const beginTransaction: Operation = async (ctx, input, detail) => {
  const req = parse(BeginTransactionRequest, input)
  note(detail, req)
  const binding = resolve(ctx, req.resourceArn, req.secretArn)
  const tx = await binding.backend.begin({ readOnly: binding.readOnly === true })
  const transactionId = ctx.transactions.open(tx, req.resourceArn, req.secretArn)
  detail.transactionId = transactionId
  return { body: JSON.stringify({ transactionId }) }
}

export const commitTransaction: Operation = async (ctx, input, detail) => {
  const req = parse(EndTransactionRequest, input)
  note(detail, req)
  resolve(ctx, req.resourceArn, req.secretArn)
  await ctx.transactions.finish(req.transactionId, req.resourceArn, req.secretArn, (tx) => tx.commit())
  return { body: JSON.stringify({ transactionStatus: 'Transaction Committed' }) }
}

export const rollbackTransaction: Operation = async (ctx, input, detail) => {
  const req = parse(EndTransactionRequest, input)
  note(detail, req)
  resolve(ctx, req.resourceArn, req.secretArn)
  await ctx.transactions.finish(req.transactionId, req.resourceArn, req.secretArn, (tx) => tx.rollback())
  return { body: JSON.stringify({ transactionStatus: 'Rollback Complete' }) }
}
