import type { AuthError, AuthFailure } from '../errors.js'

/** One fixed line per failure class; what the caller is told instead of the log message. */
export const AUTH_FAILURE_DESCRIPTIONS: Readonly<Record<AuthFailure, string>> = {
  missing: 'A bearer token is required',
  malformed: 'The bearer token is malformed',
  multiple_tokens: 'Send exactly one bearer token, in one Authorization header',
  too_large: 'The bearer token is too large',
  alg_not_allowed: 'The token signing algorithm is not allowed',
  alg_not_declared: 'The token signing algorithm is not the one its issuer declares for the key',
  wrong_token_type: 'The token type is not accepted',
  forbidden_header: 'The token header refers to a key that is not accepted',
  unknown_key: 'The token was signed with an unknown key',
  bad_signature: 'The token signature is invalid',
  wrong_issuer: 'The token was issued by an untrusted issuer',
  wrong_audience: 'The token is not intended for this resource',
  expired: 'The token has expired',
  missing_claim: 'The token lacks a required claim',
  not_yet_valid: 'The token is not yet valid',
  too_old: 'The token is too old',
  invalid_claims: 'The token claims are invalid',
  lifetime_too_long: 'The token lifetime is longer than this resource accepts',
  client_not_allowed: 'The token was issued to a client this resource does not accept',
  claim_mismatch: 'The token claims do not match what this resource requires',
  issuer_unavailable: 'The token issuer cannot be reached, try again later',
  insufficient_scope: 'The token lacks a scope this request needs',
}

const INSUFFICIENT_SCOPE_DESCRIPTION = 'The token does not grant access to this resource'

export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

export interface BearerChallengeOptions {
  /** The RFC 9728 protected resource metadata URL for this resource. */
  readonly resourceMetadataUrl: string
  /** Absent, or `AUTH_MISSING`: no error attribute (RFC 6750 §3.1). */
  readonly error?: AuthError
  /** Space-separated scopes the resource needs (RFC 6750 §3). */
  readonly scope?: string
}

// RFC 6750 §3: error_description and scope values exclude `"` and `\`; quoting stays trivial.
const DESCRIPTION_CHARS = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/

function quoted(name: string, value: string, allowed: RegExp): string {
  if (!allowed.test(value)) throw new TypeError(`${name} contains characters not allowed in a challenge`)
  return `${name}="${value}"`
}

function errorCode(error: AuthError | undefined): BearerErrorCode | undefined {
  if (error === undefined || error.code === 'AUTH_MISSING') return undefined
  if (error.failure === 'multiple_tokens') return 'invalid_request'
  return error.code === 'AUTH_FORBIDDEN' ? 'insufficient_scope' : 'invalid_token'
}

function description(error: AuthError): string {
  if (error.code !== 'AUTH_FORBIDDEN') return AUTH_FAILURE_DESCRIPTIONS[error.failure]
  return error.failure === 'insufficient_scope' ? AUTH_FAILURE_DESCRIPTIONS.insufficient_scope : INSUFFICIENT_SCOPE_DESCRIPTION
}

/**
 * The `WWW-Authenticate` value for a refused request (RFC 6750 §3, with the
 * `resource_metadata` parameter of RFC 9728 §5.1). No token sent (`AUTH_MISSING`): no
 * `error`; `AUTH_INVALID`: `error="invalid_token"` (send with 401), or `error="invalid_request"`
 * for failure `multiple_tokens` (send with 400); `AUTH_FORBIDDEN`:
 * `error="insufficient_scope"` (send with 403). The description is fixed per failure class.
 * Throws `TypeError` if the URL or scope cannot be quoted safely.
 */
export function bearerChallenge(options: BearerChallengeOptions): string {
  const params = [quoted('resource_metadata', options.resourceMetadataUrl, DESCRIPTION_CHARS)]
  if (options.scope !== undefined) params.push(quoted('scope', options.scope, SCOPE))
  const code = errorCode(options.error)
  if (code !== undefined && options.error !== undefined) {
    params.push(`error="${code}"`, quoted('error_description', description(options.error), DESCRIPTION_CHARS))
  }
  return `Bearer ${params.join(', ')}`
}

export interface AuthFailureBody {
  readonly error: BearerErrorCode | 'unauthorized'
  readonly error_description: string
}

/** A short JSON body for a refused request: the class in one line, never the token. */
export function authFailureBody(error: AuthError): AuthFailureBody {
  return { error: errorCode(error) ?? 'unauthorized', error_description: description(error) }
}
