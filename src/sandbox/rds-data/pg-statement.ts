import { z } from 'zod'
import { rewriteNamedParameters } from './named-parameters.js'
import { pgColumnMetadata, pgTextToField } from './pg-values.js'
import { RdsDataError, type SqlParameter, type StatementOptions, type StatementResult } from './rds-data-types.js'
import { withStatementDeadline } from './statement-deadline.js'

/** What a PostgreSQL connection (node-postgres or PGlite) must offer the statement runner. */
export interface PgSession {
  /** One statement over the extended protocol, every value returned in text form. */
  query(text: string, values: readonly unknown[]): Promise<PgRawResult>
  /** Fixed session statements (settings, BEGIN/COMMIT); never caller input. */
  run(sql: string): Promise<void>
  /** The backend process id, reported as `dbConnectionId` on timeouts. */
  connectionId(): Promise<number>
  /** Cancels the statement running on this session, from another connection (pg_cancel_backend). */
  cancel(): Promise<void>
}

export interface PgRawResult {
  readonly fields: readonly { readonly name: string; readonly dataTypeID: number }[]
  readonly rows: readonly (readonly (string | null)[])[]
  readonly rowCount: number
  readonly command: string
}

const CASTS = { DATE: '::date', DECIMAL: '::numeric', JSON: '::json', TIME: '::time', TIMESTAMP: '::timestamp', UUID: '::uuid' } as const

function bindValue(p: SqlParameter): { value: unknown; cast: string } {
  const v = p.value
  if ('isNull' in v) return { value: null, cast: '' }
  if ('longValue' in v) return { value: v.longValue, cast: '::int8' }
  if ('doubleValue' in v) return { value: v.doubleValue, cast: '::float8' }
  if ('booleanValue' in v) return { value: v.booleanValue, cast: '::bool' }
  if ('blobValue' in v) return { value: Buffer.from(v.blobValue, 'base64'), cast: '::bytea' }
  if ('stringValue' in v) return { value: v.stringValue, cast: p.typeHint === undefined ? '' : CASTS[p.typeHint] }
  throw new RdsDataError('BadRequestException', 'Array parameters are not supported.')
}

/**
 * The session settings every call starts with: UTC, read-only or not. No statement_timeout: the
 * service limit is enforced from outside (withStatementDeadline), so the caller's own
 * `SET LOCAL statement_timeout` in its transaction is not overridden.
 */
export function pgPreamble(options: StatementOptions): string {
  return ["SET TIME ZONE 'UTC'", `SET SESSION CHARACTERISTICS AS TRANSACTION READ ${options.readOnly ? 'ONLY' : 'WRITE'}`].join('; ')
}

/**
 * Runs one Data API statement on a PostgreSQL session: `:name` placeholders bound as typed
 * parameters, values converted to Data API fields, database errors mapped to the service's.
 * @throws RdsDataError DatabaseErrorException | StatementTimeoutException | BadRequestException
 */
export async function runPgStatement(
  session: PgSession,
  sql: string,
  parameters: readonly SqlParameter[],
  options: StatementOptions,
): Promise<{ result: Promise<StatementResult>; settled: Promise<unknown> }> {
  const byName = new Map(parameters.map((p) => [p.name, bindValue(p)] as const))
  const rewritten = rewriteNamedParameters(sql, 'postgres', new Set(byName.keys()), (name, position) => `$${position}${byName.get(name)?.cast ?? ''}`)
  const values = rewritten.names.map((name) => byName.get(name)?.value ?? null)
  try {
    await session.run(pgPreamble(options))
  } catch (err) {
    throw mapPgError(err, undefined)
  }
  const running = session.query(rewritten.text, values)
  const result = withStatementDeadline(running, options, () => session.connectionId(), () => session.cancel()).then(
    (raw) => toStatementResult(raw),
    async (err: unknown) => {
      if (err instanceof RdsDataError) throw err
      throw mapPgError(err, await session.connectionId().catch(() => undefined))
    },
  )
  return { result, settled: running.catch(() => undefined) }
}

function toStatementResult(raw: PgRawResult): StatementResult {
  const returnsRows = raw.fields.length > 0
  const counts = ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(raw.command)
  return {
    columns: returnsRows ? raw.fields.map((f) => pgColumnMetadata(f.name, f.dataTypeID)) : undefined,
    rows: raw.rows.map((row) => row.map((cell, i) => pgTextToField(cell, raw.fields[i]?.dataTypeID ?? 0))),
    rowsAffected: counts ? raw.rowCount : 0,
    generatedFields: [],
  }
}

const PgErrorSchema = z.object({ code: z.string().regex(/^[0-9A-Z]{5}$/), message: z.string(), position: z.string().optional() })

/** Maps a driver error to the service's error types; the database's own text is kept (AWS shows it too). */
export function mapPgError(err: unknown, connectionId: number | undefined): RdsDataError {
  if (err instanceof RdsDataError) return err
  const parsed = PgErrorSchema.safeParse(err)
  if (!parsed.success) return new RdsDataError('InternalServerErrorException', 'Internal failure', { cause: err })
  const { code, message, position } = parsed.data
  if (code === '57014') {
    return new RdsDataError('StatementTimeoutException', 'Request timed out', {
      cause: err,
      ...(connectionId === undefined ? {} : { dbConnectionId: connectionId }),
    })
  }
  const where = position === undefined ? '' : `\n  Position: ${position}`
  return new RdsDataError('DatabaseErrorException', `ERROR: ${message}${where}; SQLState: ${code}`, { cause: err })
}
