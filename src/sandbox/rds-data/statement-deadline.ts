import { RdsDataError, type StatementOptions } from './rds-data-types.js'

/**
 * With `continueAfterTimeout`, the database is not told to stop: the call alone gives up after the
 * service's limit (the statement keeps running). Without it, the engine's own timeout cancels the
 * statement and the driver error is mapped instead.
 */
export function withStatementDeadline<T>(
  running: Promise<T>,
  options: StatementOptions,
  connectionId: () => Promise<number>,
): Promise<T> {
  if (!options.continueAfterTimeout) return running
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      connectionId().then(
        (id) => reject(new RdsDataError('StatementTimeoutException', 'Request timed out', { dbConnectionId: id })),
        () => reject(new RdsDataError('StatementTimeoutException', 'Request timed out')),
      )
    }, options.timeoutMs)
  })
  return Promise.race([running, deadline]).finally(() => clearTimeout(timer))
}
