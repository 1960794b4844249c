import { errors } from 'jose'
import type { AuthFailure } from '../errors.js'

/**
 * Maps an error thrown by jose `jwtVerify` to the failure class reported for the token.
 * Anything unrecognised is `malformed`: the token is refused either way (fail closed).
 */
export function classifyJoseError(error: unknown): AuthFailure {
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'alg_not_allowed'
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature'
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key'
  if (error instanceof errors.JWKInvalid || error instanceof errors.JWKSInvalid) return 'unknown_key'
  // `maxTokenAge` exceeded is reported by jose as JWTExpired on the `iat` claim.
  if (error instanceof errors.JWTExpired) return error.claim === 'iat' ? 'too_old' : 'expired'
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'wrong_issuer'
    if (error.claim === 'aud') return 'wrong_audience'
    if (error.reason === 'missing') return 'missing_claim'
    if (error.reason === 'check_failed' && (error.claim === 'nbf' || error.claim === 'iat')) return 'not_yet_valid'
    return 'invalid_claims'
  }
  return 'malformed'
}
