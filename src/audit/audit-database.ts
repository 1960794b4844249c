import { z } from 'zod'
import { errorCode } from './open-audit-file.js'

/** The part of a pg client the audit sink and its readers use. */
export interface AuditDbClient {
  query(text: string, values?: unknown[]): Promise<unknown>
}

/** A pooled client; `release(true)` discards it (its connection state is unknown after an error). */
export interface AuditDbPoolClient extends AuditDbClient {
  release(destroy?: boolean): void
  on(event: 'error', listener: (error: Error) => void): unknown
  off(event: 'error', listener: (error: Error) => void): unknown
}

/**
 * Port: the part of a `pg.Pool` the PostgreSQL sink uses. The pool is built in the composition
 * root with connect, statement and query timeouts: they are what bounds a call on a hung server.
 */
export interface AuditDbPool extends AuditDbClient {
  connect(): Promise<AuditDbPoolClient>
  on(event: 'error', listener: (error: Error) => void): unknown
  off(event: 'error', listener: (error: Error) => void): unknown
}

const resultSchema = z.looseObject({ rows: z.array(z.unknown()) })

/** The rows of one statement's result, each parsed with `row` (a loose schema: pg adds nothing we trust blindly). */
export function rowsOf<T>(result: unknown, row: z.ZodType<T>): T[] {
  return resultSchema.parse(result).rows.map((r) => row.parse(r))
}

/**
 * The rows of the LAST statement of a multi-statement (simple protocol) query, which pg returns as
 * one result per statement.
 */
export function lastRowsOf<T>(results: unknown, row: z.ZodType<T>): T[] {
  const all = z.array(z.unknown()).parse(results)
  return rowsOf(all.at(-1), row)
}

/** A bigint column (pg returns int8 as a string) as a safe JS integer. */
export const int8 = z.union([z.string().regex(/^-?\d+$/), z.number().int()]).transform((v) => Number(v)).pipe(z.int())

/**
 * Runs `work` on a pooled connection. On any error the connection is discarded rather than
 * returned mid-transaction. A connection lost while checked out emits 'error' besides failing the
 * query; the pool only listens on idle clients, so a listener is held here meanwhile (without
 * it the process would end on an unhandled 'error' when the server goes away).
 */
export async function withPooledClient<T>(pool: AuditDbPool, work: (client: AuditDbPoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  const ignore = (): void => {}
  client.on('error', ignore)
  let result: T
  try {
    result = await work(client)
  } catch (error) {
    client.off('error', ignore)
    client.release(true)
    throw error
  }
  client.off('error', ignore)
  client.release()
  return result
}

// pg's own failures carry no code; these are the ones an outage or a hung server produces.
const PG_CLIENT_FAILURES: readonly [RegExp, string][] = [
  [/Connection terminated unexpectedly/i, 'connection_lost'],
  [/Connection terminated due to connection timeout|timeout exceeded when trying to connect/i, 'connect_timeout'],
  [/Query read timeout/i, 'query_timeout'],
  [/Client has encountered a connection error/i, 'connection_lost'],
]

/**
 * A short, fixed description of a database failure for records and logs: the system error
 * (ECONNREFUSED…), the SQLSTATE (57014 for a statement timeout…), or one of pg's own failures
 * (connection_lost, connect_timeout, query_timeout); never a message that could hold a value.
 */
export function dbErrorCode(error: unknown): string {
  const code = errorCode(error)
  if (code !== 'error' || !(error instanceof Error)) return code
  const known = PG_CLIENT_FAILURES.find(([pattern]) => pattern.test(error.message))
  if (known !== undefined) return known[1]
  return error.cause === undefined ? 'error' : dbErrorCode(error.cause)
}
