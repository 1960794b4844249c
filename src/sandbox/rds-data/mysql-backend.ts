import mysql from 'mysql2/promise'
import { z } from 'zod'
import { mysqlColumnMetadata, mysqlValueToField } from './mysql-values.js'
import { rewriteNamedParameters } from './named-parameters.js'
import {
  backendTransaction,
  RdsDataError,
  type BackendTransaction,
  type SqlBackend,
  type SqlParameter,
  type StatementOptions,
  type StatementResult,
} from './rds-data-types.js'
import { withStatementDeadline } from './statement-deadline.js'

export interface MysqlBackendConfig {
  /** e.g. mysql://root@127.0.0.1:3306/test */
  readonly uri: string
  readonly connectionLimit?: number
}

function bindValue(p: SqlParameter): unknown {
  const v = p.value
  if ('isNull' in v) return null
  if ('longValue' in v) return v.longValue
  if ('doubleValue' in v) return v.doubleValue
  if ('booleanValue' in v) return v.booleanValue
  if ('blobValue' in v) return Buffer.from(v.blobValue, 'base64')
  if ('stringValue' in v) return v.stringValue
  throw new RdsDataError('BadRequestException', 'Array parameters are not supported.')
}

const MysqlErrorSchema = z.object({ errno: z.number(), sqlMessage: z.string(), sqlState: z.string().optional() })
// MariaDB max_statement_time, MySQL max_execution_time, and a killed query.
const TIMEOUT_ERRNOS = new Set([1969, 3024, 1317])

function mapMysqlError(err: unknown, connectionId: number): RdsDataError {
  if (err instanceof RdsDataError) return err
  const parsed = MysqlErrorSchema.safeParse(err)
  if (!parsed.success) return new RdsDataError('InternalServerErrorException', 'Internal failure', { cause: err })
  if (TIMEOUT_ERRNOS.has(parsed.data.errno)) {
    return new RdsDataError('StatementTimeoutException', 'Request timed out', { cause: err, dbConnectionId: connectionId })
  }
  return new RdsDataError('DatabaseErrorException', parsed.data.sqlMessage, { cause: err })
}

const ResultHeaderSchema = z.object({ affectedRows: z.number(), insertId: z.union([z.number(), z.string()]) })

/** A real MySQL/MariaDB database behind the Data API, via a mysql2 pool. */
export function createMysqlBackend(config: MysqlBackendConfig): SqlBackend {
  const pool = mysql.createPool({
    uri: config.uri,
    connectionLimit: config.connectionLimit ?? 10,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    jsonStrings: true,
    decimalNumbers: false,
    timezone: 'Z',
    multipleStatements: false,
  })
  let mariadb: Promise<boolean> | undefined
  const isMariadb = (conn: mysql.PoolConnection): Promise<boolean> =>
    (mariadb ??= conn.query('SELECT VERSION()', []).then(([rows]) => JSON.stringify(rows).includes('MariaDB')))

  /** Per statement: read-only or not, UTC. Timeouts are the caller's to set (see withStatementDeadline). */
  async function preamble(conn: mysql.PoolConnection, options: StatementOptions): Promise<void> {
    await conn.query(`SET SESSION TRANSACTION READ ${options.readOnly ? 'ONLY' : 'WRITE'}`)
    await conn.query("SET time_zone = '+00:00'")
  }

  /** On checkout: a limit an earlier caller set on this pooled session must not reach the next one. */
  async function resetLimits(conn: mysql.PoolConnection): Promise<void> {
    if (await isMariadb(conn)) await conn.query('SET SESSION max_statement_time = DEFAULT')
    else await conn.query('SET SESSION max_execution_time = DEFAULT')
  }

  /** KILL QUERY from another pooled connection, as the service stops a statement past its limit. */
  async function cancel(threadId: number): Promise<void> {
    await pool.query(`KILL QUERY ${Math.trunc(threadId)}`)
  }

  async function run(conn: mysql.PoolConnection, sql: string, parameters: readonly SqlParameter[], options: StatementOptions) {
    const byName = new Map(parameters.map((p) => [p.name, p] as const))
    const rewritten = rewriteNamedParameters(sql, 'mysql', new Set(byName.keys()), () => '?')
    const values = rewritten.names.map((name) => {
      const p = byName.get(name)
      return p === undefined ? null : bindValue(p)
    })
    try {
      await preamble(conn, options)
    } catch (err) {
      throw mapMysqlError(err, conn.threadId)
    }
    const running = conn.execute({ sql: rewritten.text, values, rowsAsArray: true })
    const result = withStatementDeadline(running, options, () => Promise.resolve(conn.threadId), () => cancel(conn.threadId)).then(
      ([rows, fields]): StatementResult => toStatementResult(rows, fields),
      (err: unknown) => {
        throw mapMysqlError(err, conn.threadId)
      },
    )
    return { result, settled: running.catch(() => undefined) }
  }

  return {
    engine: 'mysql',
    async execute(sql, parameters, options) {
      const conn = await pool.getConnection().catch((err: unknown) => {
        throw mapMysqlError(err, 0)
      })
      try {
        await resetLimits(conn).catch((err: unknown) => {
          throw mapMysqlError(err, conn.threadId)
        })
        const { result, settled } = await run(conn, sql, parameters, options)
        // Whatever the caller left open must not reach the next caller.
        void settled.then(() => conn.query('ROLLBACK')).then(
          () => conn.release(),
          () => conn.destroy(),
        )
        return await result
      } catch (err) {
        conn.destroy()
        throw err
      }
    },
    async begin({ readOnly }): Promise<BackendTransaction> {
      const conn = await pool.getConnection().catch((err: unknown) => {
        throw mapMysqlError(err, 0)
      })
      try {
        await resetLimits(conn)
        await conn.query(`SET SESSION TRANSACTION READ ${readOnly ? 'ONLY' : 'WRITE'}`)
        await conn.query(`START TRANSACTION${readOnly ? ' READ ONLY' : ''}`)
      } catch (err) {
        conn.destroy()
        throw mapMysqlError(err, conn.threadId)
      }
      return backendTransaction(
        async (sql, parameters, options) => (await run(conn, sql, parameters, { ...options, readOnly })).result,
        async (statement) => {
          try {
            await conn.query(statement)
            conn.release()
          } catch (err) {
            conn.destroy()
            throw mapMysqlError(err, conn.threadId)
          }
        },
      )
    },
    close: () => pool.end(),
  }
}

function toStatementResult(rows: unknown, fields: readonly mysql.FieldPacket[] | undefined): StatementResult {
  if (Array.isArray(rows) && fields !== undefined && fields.length > 0) {
    return {
      columns: fields.map(mysqlColumnMetadata),
      rows: rows.map((row: unknown) => (Array.isArray(row) ? row.map((cell: unknown, i) => cellToField(cell, fields[i])) : [])),
      rowsAffected: 0,
      generatedFields: [],
    }
  }
  const header = ResultHeaderSchema.safeParse(rows)
  if (!header.success) return { columns: undefined, rows: [], rowsAffected: 0, generatedFields: [] }
  const insertId = Number(header.data.insertId)
  return {
    columns: undefined,
    rows: [],
    rowsAffected: header.data.affectedRows,
    generatedFields: insertId > 0 ? [{ longValue: insertId }] : [],
  }
}

function cellToField(cell: unknown, field: mysql.FieldPacket | undefined) {
  return field === undefined ? { isNull: true as const } : mysqlValueToField(cell, field)
}
