import pg from 'pg'
import { mapPgError, runPgStatement, type PgRawResult, type PgSession } from './pg-statement.js'
import { backendTransaction, type BackendTransaction, type SqlBackend, type SqlParameter, type StatementOptions, type StatementResult } from './rds-data-types.js'

export interface PgBackendConfig {
  readonly connectionString?: string
  readonly poolConfig?: pg.PoolConfig
}

const rawText = { getTypeParser: () => (value: string) => value }

function sessionFor(client: pg.PoolClient, pool: pg.Pool): PgSession {
  return {
    async query(text: string, values: readonly unknown[]): Promise<PgRawResult> {
      // queryMode 'extended' keeps even parameterless calls to one statement, as the service does.
      const config = { text, values: [...values], rowMode: 'array' as const, types: rawText, queryMode: 'extended' }
      const res = await client.query(config)
      return {
        fields: res.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
        rows: res.rows.map((row: unknown[]) => row.map(textCell)),
        rowCount: res.rowCount ?? 0,
        command: res.command,
      }
    },
    async run(sql: string): Promise<void> {
      await client.query(sql)
    },
    connectionId() {
      const pid: unknown = Reflect.get(client, 'processID')
      return typeof pid === 'number' ? Promise.resolve(pid) : Promise.reject(new TypeError('no backend pid'))
    },
    async cancel() {
      const pid: unknown = Reflect.get(client, 'processID')
      if (typeof pid === 'number') await pool.query('SELECT pg_cancel_backend($1)', [pid])
    },
  }
}

function textCell(cell: unknown): string | null {
  if (cell === null || typeof cell === 'string') return cell
  throw new TypeError('expected text-format result values')
}

/** A real PostgreSQL database behind the Data API, via a node-postgres pool. */
export function createPgBackend(config: PgBackendConfig): SqlBackend {
  const pool = new pg.Pool({
    ...config.poolConfig,
    ...(config.connectionString === undefined ? {} : { connectionString: config.connectionString }),
  })
  // An idle client's error (e.g. server restart) must not crash the emulator.
  pool.on('error', () => undefined)

  async function execOn(client: pg.PoolClient, sql: string, parameters: readonly SqlParameter[], options: StatementOptions) {
    return runPgStatement(sessionFor(client, pool), sql, parameters, options)
  }

  return {
    engine: 'postgres',
    async execute(sql, parameters, options): Promise<StatementResult> {
      const client = await pool.connect().catch((err: unknown) => {
        throw mapPgError(err, undefined)
      })
      let released = false
      const release = (destroy: boolean) => {
        if (released) return
        released = true
        client.release(destroy)
      }
      try {
        const { result, settled } = await execOn(client, sql, parameters, options)
        // The connection goes back only once the statement has really finished (continueAfterTimeout).
        // Whatever the caller left behind (an open BEGIN, a SET) must not reach the next caller.
        // Two queries: sent as one string they form an implicit transaction, where DISCARD ALL fails.
        void settled.then(async () => {
          await client.query('ROLLBACK')
          await client.query('DISCARD ALL')
        }).then(
          () => release(false),
          () => release(true),
        )
        return await result
      } catch (err) {
        release(true)
        throw err
      }
    },
    async begin({ readOnly }): Promise<BackendTransaction> {
      const client = await pool.connect().catch((err: unknown) => {
        throw mapPgError(err, undefined)
      })
      try {
        await client.query(`SET SESSION CHARACTERISTICS AS TRANSACTION READ ${readOnly ? 'ONLY' : 'WRITE'}; BEGIN${readOnly ? ' READ ONLY' : ''}`)
      } catch (err) {
        client.release(true)
        throw mapPgError(err, undefined)
      }
      return backendTransaction(
        async (sql, parameters, options) => (await execOn(client, sql, parameters, { ...options, readOnly })).result,
        async (statement) => {
          try {
            await client.query(statement)
            // Settings made inside the transaction must not reach the next caller of this connection.
            await client.query('DISCARD ALL')
            client.release()
          } catch (err) {
            client.release(true)
            throw mapPgError(err, undefined)
          }
        },
      )
    },
    close: () => pool.end(),
  }
}
