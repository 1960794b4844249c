/** An STS error as the wire carries it: the SDK maps `code` to its exception class. */
export interface StsFault {
  readonly status: number
  /** An StsFaultCode, or an awsQuery SigV4 failure code such as `ExpiredToken`. */
  readonly code: string
  readonly message: string
}

export type StsFaultCode =
  | 'AccessDenied'
  | 'ExpiredTokenException'
  | 'InvalidAction'
  | 'InvalidClientTokenId'
  | 'InvalidIdentityToken'
  | 'SignatureDoesNotMatch'
  | 'ValidationError'
  | 'IncompleteSignature'
  | 'MissingAuthenticationToken'
  | 'RequestEntityTooLarge'
  | 'MethodNotAllowed'

/** Builds the fault; AccessDenied and the credential errors are 403, the rest 400 (as STS does). */
export function stsFault(code: StsFaultCode, message: string): StsFault {
  const status =
    code === 'AccessDenied' || code === 'InvalidClientTokenId' || code === 'SignatureDoesNotMatch' || code === 'MissingAuthenticationToken'
      ? 403
      : code === 'RequestEntityTooLarge'
        ? 413
        : code === 'MethodNotAllowed'
          ? 405
          : 400
  return { status, code, message }
}
