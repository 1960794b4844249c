import { UpstreamError } from '../../src/errors.js'
import type { UpstreamErrorCode } from '../../src/errors.js'
import { answeredStatus, errorField } from '../../src/aws/sdk-error-fields.js'

const BY_NAME: Readonly<Record<string, UpstreamErrorCode>> = {
  StatementTimeoutException: 'DB_TIMEOUT',
  ThrottlingException: 'AWS_THROTTLED',
  TooManyRequestsException: 'AWS_THROTTLED',
  ProvisionedThroughputExceededException: 'AWS_THROTTLED',
  AccessDeniedException: 'AWS_DENIED',
  ForbiddenException: 'AWS_DENIED',
  UnauthorizedOperation: 'AWS_DENIED',
  UnrecognizedClientException: 'AWS_CREDENTIALS',
  InvalidSignatureException: 'AWS_CREDENTIALS',
  IncompleteSignatureException: 'AWS_CREDENTIALS',
  SignatureDoesNotMatch: 'AWS_CREDENTIALS',
  ExpiredTokenException: 'AWS_CREDENTIALS',
  ExpiredToken: 'AWS_CREDENTIALS',
  InvalidClientTokenId: 'AWS_CREDENTIALS',
  CredentialsProviderError: 'AWS_CREDENTIALS',
  InvalidSecretException: 'AWS_CREDENTIALS',
  SecretsErrorException: 'AWS_CREDENTIALS',
  NotFoundException: 'AWS_NOT_FOUND',
  DatabaseNotFoundException: 'AWS_NOT_FOUND',
  TransactionNotFoundException: 'AWS_NOT_FOUND',
  ResourceNotFoundException: 'AWS_NOT_FOUND',
  DatabaseUnavailableException: 'AWS_UNAVAILABLE',
  DatabaseResumingException: 'AWS_UNAVAILABLE',
  ServiceUnavailableError: 'AWS_UNAVAILABLE',
  ServiceUnavailableException: 'AWS_UNAVAILABLE',
  InternalServerErrorException: 'AWS_UNAVAILABLE',
}

/** What the database itself said, when the Data API passed it on; shown to the caller as is. */
function databaseMessage(name: string, message: string): string | undefined {
  if (name === 'DatabaseErrorException') return message
  // Aurora MySQL reports SQL errors as BadRequestException "Database error code: 1146. Message: …".
  if (name === 'BadRequestException' && /^Database error code: \d+/.test(message)) return message
  return undefined
}

/**
 * Maps an RDS Data API (or SDK) failure to an UpstreamError. The caller-visible `publicDetail`
 * is set only for the database's own message; AWS bodies stay in `message` for the log.
 */
export function mapRdsDataError(error: unknown, during: string): UpstreamError {
  if (error instanceof UpstreamError) return error
  const rawName = errorField(error, 'name')
  const name = typeof rawName === 'string' ? rawName : 'Error'
  const rawMessage = errorField(error, 'message')
  const message = typeof rawMessage === 'string' ? rawMessage : ''
  const logText = `${during}: ${name}: ${message}`.slice(0, 2000)
  const fromDb = databaseMessage(name, message)
  if (fromDb !== undefined) {
    const timedOut = /canceling statement due to statement timeout|max_statement_time exceeded|maximum statement execution time exceeded/i.test(fromDb)
    return new UpstreamError(timedOut ? 'DB_TIMEOUT' : 'DB_ERROR', logText, { cause: error, publicDetail: fromDb.slice(0, 2000) })
  }
  if (name === 'BadRequestException' && /response size|too large|exceeds? .*limit/i.test(message)) {
    return new UpstreamError('RESULT_TOO_LARGE', logText, { cause: error })
  }
  const byName = BY_NAME[name]
  if (byName !== undefined) return new UpstreamError(byName, logText, { cause: error })
  const status = answeredStatus(error)
  if (status === 429) return new UpstreamError('AWS_THROTTLED', logText, { cause: error })
  if (status === 401) return new UpstreamError('AWS_CREDENTIALS', logText, { cause: error })
  if (status === 403) return new UpstreamError('AWS_DENIED', logText, { cause: error })
  if (status === 404) return new UpstreamError('AWS_NOT_FOUND', logText, { cause: error })
  if (status !== undefined && status >= 500) return new UpstreamError('AWS_UNAVAILABLE', logText, { cause: error })
  const code = errorField(error, 'code')
  if (status === undefined && typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code)) {
    return new UpstreamError('AWS_UNAVAILABLE', logText, { cause: error })
  }
  return new UpstreamError('AWS_ERROR', logText, { cause: error })
}
