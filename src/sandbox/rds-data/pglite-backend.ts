import type { PGlite } from '@electric-sql/pglite'
import { PG_KNOWN_OIDS } from './pg-values.js'
import { mapPgError, runPgStatement, type PgRawResult, type PgSession } from './pg-statement.js'
import { backendTransaction, type BackendTransaction, type SqlBackend, type StatementResult } from './rds-data-types.js'

export interface PgliteBackendConfig {
  readonly db: PGlite
}

/**
 * Embedded PGlite behind the Data API (the sandbox default). PGlite is one session, so a Data API
 * transaction holds it exclusively until commit, rollback or expiry; other calls wait their turn.
 * Its single-threaded engine cannot interrupt a running statement: past the service limit the call
 * gives up and the statement finishes.
 */
export function createPgliteBackend(config: PgliteBackendConfig): SqlBackend {
  const { db } = config
  const identity = (value: string) => value
  const parsers = Object.fromEntries([...Object.keys(db.parsers), ...PG_KNOWN_OIDS.map(String)].map((oid) => [oid, identity]))
  let pid: number | undefined
  const session: PgSession = {
    async query(text, values): Promise<PgRawResult> {
      const res = await db.query<unknown[]>(text, [...values], { rowMode: 'array', parsers })
      return {
        fields: res.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
        rows: res.rows.map((row) => (Array.isArray(row) ? row.map(textCell) : [])),
        rowCount: res.affectedRows ?? res.rows.length,
        command: res.command ?? '',
      }
    },
    async run(sql) {
      await db.exec(sql)
    },
    async connectionId() {
      if (pid === undefined) {
        const res = await db.query<unknown[]>('select pg_backend_pid()', [], { rowMode: 'array' })
        const value = res.rows[0]?.[0]
        pid = typeof value === 'number' ? value : 0
      }
      return pid
    },
    // Nothing can interrupt the engine from outside.
    cancel: async () => undefined,
  }

  let tail: Promise<void> = Promise.resolve()
  /** Serialises access to the one session; resolves with the release function. */
  function acquire(): Promise<() => void> {
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const ready = tail.then(() => release)
    tail = tail.then(() => held)
    return ready
  }

  return {
    engine: 'postgres',
    async execute(sql, parameters, options): Promise<StatementResult> {
      const release = await acquire()
      try {
        const { result, settled } = await runPgStatement(session, sql, parameters, options)
        // Whatever the caller left behind (an open BEGIN, a SET) must not reach the next caller.
        void settled
          // Two statements: as one string they form an implicit transaction, where DISCARD ALL fails.
          .then(async () => {
            await db.exec('ROLLBACK')
            await db.exec('DISCARD ALL')
          })
          .catch(() => undefined)
          .then(release)
        return await result
      } catch (err) {
        release()
        throw err
      }
    },
    async begin({ readOnly }): Promise<BackendTransaction> {
      const release = await acquire()
      try {
        await db.exec(`SET SESSION CHARACTERISTICS AS TRANSACTION READ ${readOnly ? 'ONLY' : 'WRITE'}; BEGIN${readOnly ? ' READ ONLY' : ''}`)
      } catch (err) {
        release()
        throw mapPgError(err, undefined)
      }
      return backendTransaction(
        async (sql, parameters, options) => (await runPgStatement(session, sql, parameters, { ...options, readOnly })).result,
        async (statement) => {
          try {
            await db.exec(statement)
          } catch (err) {
            throw mapPgError(err, undefined)
          } finally {
            release()
          }
        },
      )
    },
    // The caller owns the PGlite instance.
    close: () => Promise.resolve(),
  }
}

function textCell(cell: unknown): string | null {
  if (cell === null || typeof cell === 'string') return cell
  throw new TypeError('expected text-format result values')
}
