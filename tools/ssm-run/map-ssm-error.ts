import { UpstreamError } from '../../src/errors.js'
import type { UpstreamErrorCode } from '../../src/errors.js'
import { answeredStatus, errorField } from '../../src/aws/sdk-error-fields.js'

const BY_NAME: Readonly<Record<string, UpstreamErrorCode>> = {
  InvalidInstanceId: 'INSTANCE_UNAVAILABLE',
  ThrottlingException: 'AWS_THROTTLED',
  TooManyRequestsException: 'AWS_THROTTLED',
  TooManyUpdates: 'AWS_THROTTLED',
  AccessDeniedException: 'AWS_DENIED',
  UnauthorizedOperation: 'AWS_DENIED',
  UnrecognizedClientException: 'AWS_CREDENTIALS',
  InvalidSignatureException: 'AWS_CREDENTIALS',
  IncompleteSignatureException: 'AWS_CREDENTIALS',
  MissingAuthenticationTokenException: 'AWS_CREDENTIALS',
  ExpiredTokenException: 'AWS_CREDENTIALS',
  CredentialsProviderError: 'AWS_CREDENTIALS',
  InvocationDoesNotExist: 'AWS_NOT_FOUND',
  InvalidCommandId: 'AWS_NOT_FOUND',
  InternalServerError: 'AWS_UNAVAILABLE',
  ServiceUnavailableException: 'AWS_UNAVAILABLE',
}

/** The AWS error name of an SDK failure ('' when it is not one). */
export function awsErrorName(error: unknown): string {
  const name = errorField(error, 'name')
  return typeof name === 'string' ? name : ''
}

/**
 * Maps an SSM (or SDK) failure to an UpstreamError. AWS bodies stay in `message` for the log;
 * nothing from them is marked caller-visible.
 */
export function mapSsmError(error: unknown, during: string): UpstreamError {
  if (error instanceof UpstreamError) return error
  const name = awsErrorName(error) || 'Error'
  const rawMessage = errorField(error, 'message')
  const logText = `${during}: ${name}: ${typeof rawMessage === 'string' ? rawMessage : ''}`.slice(0, 2000)
  const byName = BY_NAME[name]
  if (byName !== undefined) return new UpstreamError(byName, logText, { cause: error })
  const status = answeredStatus(error)
  if (status === 429) return new UpstreamError('AWS_THROTTLED', logText, { cause: error })
  if (status === 401) return new UpstreamError('AWS_CREDENTIALS', logText, { cause: error })
  if (status === 403) return new UpstreamError('AWS_DENIED', logText, { cause: error })
  if (typeof status === 'number' && status >= 500) return new UpstreamError('AWS_UNAVAILABLE', logText, { cause: error })
  const code = errorField(error, 'code')
  if (status === undefined && typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code)) {
    return new UpstreamError('AWS_UNAVAILABLE', logText, { cause: error })
  }
  return new UpstreamError('AWS_ERROR', logText, { cause: error })
}
