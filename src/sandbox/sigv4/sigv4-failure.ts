/** Why a SigV4 check refused a request; emulators map it to their protocol's error type. */
export type SigV4FailureReason =
  | 'missing'
  | 'incomplete'
  | 'unknown_key'
  | 'bad_token'
  | 'bad_signature'
  | 'bad_scope'
  | 'bad_payload_hash'
  | 'skew'
  | 'expired_credentials'
  | 'presign_expired'

export interface SigV4Failure {
  readonly ok: false
  readonly status: 400 | 403
  /** AWS error type, e.g. 'InvalidSignatureException' (awsJson/restJson) or 'SignatureDoesNotMatch' (awsQuery). */
  readonly code: string
  /** AWS-like text; never contains a secret, token or the canonical request. */
  readonly message: string
  readonly reason: SigV4FailureReason
}

/** Wire protocol families, which name the same authentication errors differently. */
export type AwsProtocol = 'restJson' | 'awsJson' | 'awsQuery'

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'

const DEFAULT_MESSAGE: Record<SigV4FailureReason, string> = {
  missing: 'Missing Authentication Token',
  incomplete: 'Authorization header requires Credential, SignedHeaders and Signature.',
  unknown_key: 'The security token included in the request is invalid.',
  bad_token: 'The security token included in the request is invalid.',
  bad_signature: SIGNATURE_MISMATCH,
  bad_scope: 'Credential should be scoped to a valid region.',
  bad_payload_hash: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  skew: 'Signature expired.',
  expired_credentials: 'The security token included in the request is expired',
  presign_expired: 'Request has expired.',
}

const CODES: Record<AwsProtocol, Record<SigV4FailureReason, readonly [400 | 403, string]>> = {
  restJson: {
    missing: [403, 'MissingAuthenticationTokenException'],
    incomplete: [400, 'IncompleteSignatureException'],
    unknown_key: [403, 'UnrecognizedClientException'],
    bad_token: [403, 'UnrecognizedClientException'],
    bad_signature: [403, 'InvalidSignatureException'],
    bad_scope: [403, 'InvalidSignatureException'],
    bad_payload_hash: [400, 'InvalidSignatureException'],
    skew: [403, 'InvalidSignatureException'],
    expired_credentials: [403, 'ExpiredTokenException'],
    presign_expired: [403, 'InvalidSignatureException'],
  },
  // Coral-fronted JSON services (SSM, DynamoDB…) answer authentication failures with 400.
  awsJson: {
    missing: [400, 'MissingAuthenticationTokenException'],
    incomplete: [400, 'IncompleteSignatureException'],
    unknown_key: [400, 'UnrecognizedClientException'],
    bad_token: [400, 'UnrecognizedClientException'],
    bad_signature: [400, 'InvalidSignatureException'],
    bad_scope: [400, 'InvalidSignatureException'],
    bad_payload_hash: [400, 'InvalidSignatureException'],
    skew: [400, 'InvalidSignatureException'],
    expired_credentials: [400, 'ExpiredTokenException'],
    presign_expired: [400, 'InvalidSignatureException'],
  },
  awsQuery: {
    missing: [403, 'MissingAuthenticationToken'],
    incomplete: [400, 'IncompleteSignature'],
    unknown_key: [403, 'InvalidClientTokenId'],
    bad_token: [403, 'InvalidClientTokenId'],
    bad_signature: [403, 'SignatureDoesNotMatch'],
    bad_scope: [403, 'SignatureDoesNotMatch'],
    bad_payload_hash: [400, 'SignatureDoesNotMatch'],
    skew: [403, 'SignatureDoesNotMatch'],
    expired_credentials: [403, 'ExpiredToken'],
    presign_expired: [403, 'SignatureDoesNotMatch'],
  },
}

/** Builds a failure with the restJson names (the default `verifySigV4` returns). */
export function sigV4Failure(reason: SigV4FailureReason, message?: string): SigV4Failure {
  const [status, code] = CODES.restJson[reason]
  return { ok: false, status, code, message: message ?? DEFAULT_MESSAGE[reason], reason }
}

/** Re-labels a failure with the status and error type the given protocol family uses. */
export function mapSigV4Failure(failure: SigV4Failure, protocol: AwsProtocol): SigV4Failure {
  const [status, code] = CODES[protocol][failure.reason]
  return { ...failure, status, code }
}
