import { UpstreamError } from '../errors.js'
import { answeredStatus, errorField } from './sdk-error-fields.js'

/**
 * Node errors raised before a request's first byte could leave: nothing listening, no route, no
 * DNS answer. A request that failed this way never reached AWS.
 */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])
/** SDK failures raised before signing, so before sending. */
const NEVER_SENT_NAMES = new Set(['CredentialsProviderError'])
/**
 * Raised by the gateway's own credential providers (src/aws) while signing: no credentials, no
 * signature, so the request never left.
 */
const CREDENTIAL_CODES = new Set(['AWS_CREDENTIALS', 'AWS_DENIED'])
/** @smithy/node-http-handler's connectionTimeout: the socket never connected, so nothing was written. */
const CONNECT_TIMEOUT = /did not establish a connection/

/** Whether `error` (from an SDK call) proves the request never left the gateway. */
export function neverSent(error: unknown): boolean {
  if (error instanceof UpstreamError) return CREDENTIAL_CODES.has(error.code)
  if (answeredStatus(error) !== undefined) return false
  const code = errorField(error, 'code')
  const name = errorField(error, 'name')
  const message = errorField(error, 'message')
  if (typeof code === 'string' && NEVER_SENT_CODES.has(code)) return true
  if (typeof name === 'string' && NEVER_SENT_NAMES.has(name)) return true
  return name === 'TimeoutError' && typeof message === 'string' && CONNECT_TIMEOUT.test(message)
}

/**
 * Whether AWS may have acted on a request that failed with `error`. False only when that is
 * proven: the request never left, or AWS answered with a 4xx (a refusal: throttled, invalid,
 * denied, not found). A 5xx, a reset, a timeout or an abort after sending leaves it unknown.
 */
export function mayHaveActed(error: unknown): boolean {
  if (neverSent(error)) return false
  const status = answeredStatus(error)
  return status === undefined || status >= 500
}

/**
 * The error for an acting call (one that changes something in AWS) that failed with `error`:
 * AWS_OUTCOME_UNKNOWN when the action may have happened, else undefined (map it as usual).
 */
export function unknownOutcome(error: unknown, during: string): UpstreamError | undefined {
  if (!mayHaveActed(error)) return undefined
  const name = errorField(error, 'name')
  const message = errorField(error, 'message')
  const what = `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message : ''}`.slice(0, 500)
  return new UpstreamError('AWS_OUTCOME_UNKNOWN', `${during}: failed after the request may have reached AWS; not retried (${what})`, { cause: error })
}
