import { RdsDataError, type StatementOptions } from './rds-data-types.js'

/**
 * The service's own limit on a synchronous call, enforced from outside the session as AWS does:
 * it never touches the session's settings, so a `statement_timeout` or `max_statement_time` the
 * caller set in its transaction still applies (and fires first when it is shorter). Past the
 * limit the call fails with StatementTimeoutException; without `continueAfterTimeout` the
 * statement is also cancelled on the database (`cancel`), with it the statement keeps running.
 */
export function withStatementDeadline<T>(
  running: Promise<T>,
  options: StatementOptions,
  connectionId: () => Promise<number>,
  cancel: () => Promise<void>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const stopped = options.continueAfterTimeout ? Promise.resolve() : cancel().catch(() => undefined)
      void stopped
        .then(() => connectionId())
        .then(
          (id) => reject(new RdsDataError('StatementTimeoutException', 'Request timed out', { dbConnectionId: id })),
          () => reject(new RdsDataError('StatementTimeoutException', 'Request timed out')),
        )
    }, Math.max(1, Math.floor(options.timeoutMs)))
  })
  return Promise.race([running, deadline]).finally(() => clearTimeout(timer))
}
