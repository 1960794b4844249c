import pg from 'pg'

export interface AuditPoolSettings {
  readonly url: string
  readonly poolSize: number
  readonly connectTimeoutMs: number
  readonly statementTimeoutMs: number
}

/**
 * The PostgreSQL audit sink's pool. Every wait is bounded, so a hung or unreachable server fails
 * writes closed instead of hanging calls: connecting (and waiting for a pooled connection),
 * each statement on the server (statement and lock timeouts), each query on the client (when the
 * server stops answering altogether), and a transaction left open by a replica cut off mid-commit,
 * which would otherwise hold the chain's lock.
 */
export function createAuditPool(settings: AuditPoolSettings): pg.Pool {
  return new pg.Pool({
    connectionString: settings.url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    lock_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + 1_000,
    idle_in_transaction_session_timeout: Math.max(2 * settings.statementTimeoutMs, 10_000),
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'airlock-audit',
  })
}
