/**
 * Error families. `message` is for logs and the audit trail only: what a caller sees is mapped
 * per surface (HTTP challenge, MCP tool result, CLI line) from the stable `code`.
 */
export class AirlockError<C extends string = string> extends Error {
  readonly code: C
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Why a bearer token was refused; the class is reported, the token never is. */
export type AuthFailure =
  | 'missing'
  | 'malformed'
  /**
   * More than one bearer token, or one in more than one place (RFC 6750 §3.1 `invalid_request`,
   * HTTP 400): which one would win is the gateway's guess, so none does.
   */
  | 'multiple_tokens'
  | 'too_large'
  | 'alg_not_allowed'
  /** The `alg` is not one the issuer declares for the key (its JWK `alg`, else its discovery document). */
  | 'alg_not_declared'
  /** The JOSE `typ` header is not one of the accepted token types (e.g. an ID token, a SET, a DPoP proof). */
  | 'wrong_token_type'
  | 'forbidden_header'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'missing_claim'
  | 'not_yet_valid'
  | 'too_old'
  | 'invalid_claims'
  /** `exp − iat` (or `exp − now` without `iat`) exceeds the maximum token lifetime. */
  | 'lifetime_too_long'
  /** Neither `client_id` nor `azp` names an allowed client. */
  | 'client_not_allowed'
  /** A pinned claim (`requiredClaims`) is absent or has a value that is not accepted. */
  | 'claim_mismatch'
  | 'issuer_unavailable'
  /** A valid token without a scope the request needs (`AUTH_FORBIDDEN`, HTTP 403). */
  | 'insufficient_scope'

export type AuthErrorCode = 'AUTH_MISSING' | 'AUTH_INVALID' | 'AUTH_FORBIDDEN'
export class AuthError extends AirlockError<AuthErrorCode> {
  readonly failure: AuthFailure
  /** For `issuer_unavailable`: seconds until the gateway next tries the issuer (the 503's `Retry-After`). */
  readonly retryAfterSeconds: number | undefined
  /** For `insufficient_scope`: the space-separated scopes the request needs (the challenge's `scope`). */
  readonly scope: string | undefined
  constructor(code: AuthErrorCode, failure: AuthFailure, message: string, options?: ErrorOptions & { retryAfterSeconds?: number; scope?: string }) {
    super(code, message, options)
    this.failure = failure
    this.retryAfterSeconds = options?.retryAfterSeconds
    this.scope = options?.scope
  }
}

export type PolicyErrorCode =
  | 'POLICY_DENIED'
  | 'APPROVAL_REQUIRED'
  /** The subject's access period under the grant (its activation) has ended; a fresh sign-in starts a new one. */
  | 'GRANT_EXPIRED'
  /** A new access period needs a sign-in time (`auth_time`, else `iat`) that is present and recent enough. */
  | 'SIGN_IN_REQUIRED'
  /** The caller's calls-per-minute or concurrent-calls limit is reached; the message says when to retry. */
  | 'RATE_LIMITED'
  /** The call names a tool the gateway does not have. */
  | 'UNKNOWN_TOOL'
  /** The call waits for a human approval; the message names the request. */
  | 'APPROVAL_PENDING'
  /** A human denied this very call; the denial stands. */
  | 'APPROVAL_DENIED'
  /** An approver tried to decide their own request. */
  | 'SELF_APPROVAL'
  /** The caller holds none of the request's approver groups (now). */
  | 'NOT_APPROVER'
  /** No such request, or not one the caller may see. */
  | 'REQUEST_NOT_FOUND'
  /** The request was already decided, used or has expired. */
  | 'REQUEST_NOT_PENDING'
export class PolicyError extends AirlockError<PolicyErrorCode> {}

export type InputErrorCode = 'INPUT_INVALID'
export class InputError extends AirlockError<InputErrorCode> {}

export type GuardErrorCode =
  | 'SQL_PARSE_FAILED'
  | 'SQL_MULTIPLE_STATEMENTS'
  | 'SQL_NOT_READ_ONLY'
  /** Refused whatever the grant's mode (server files, DO, transaction control, …). */
  | 'SQL_NOT_ALLOWED'
  /** The statement uses a column the grant masks other than by selecting it as is. */
  | 'SQL_MASKED_COLUMN'
  /** A read-only statement could reach a user-defined function, operator, type or cast of a name it uses. */
  | 'SQL_FUNCTION_NOT_BUILTIN'
  /** A read-only statement builds a value or row set larger than the guard's limits (repeat, lpad, generate_series, …). */
  | 'SQL_VALUE_TOO_LARGE'
  /** The statement reads system catalogs or server state, and the grant does not allow it (`sql.allowSystemCatalogs`). */
  | 'SQL_SYSTEM_CATALOG'
  | 'COMMAND_SYNTAX_REFUSED'
  | 'COMMAND_NOT_ALLOWED'
  /** A `{path:…}` argument resolved, on the instance, outside its template's tree (or not at all); the command did not run. */
  | 'PATH_NOT_ALLOWED'
  | 'INSTANCE_NOT_ALLOWED'
  | 'K8S_NOT_ALLOWED'
export class GuardError extends AirlockError<GuardErrorCode> {}

export type UpstreamErrorCode =
  | 'AWS_THROTTLED'
  | 'AWS_DENIED'
  | 'AWS_CREDENTIALS'
  | 'AWS_NOT_FOUND'
  | 'AWS_UNAVAILABLE'
  | 'AWS_ERROR'
  /** AWS did not answer within the call's deadline (a read; nothing was changed). */
  | 'AWS_TIMEOUT'
  /** An acting call failed after its request may have reached AWS; it was not retried. */
  | 'AWS_OUTCOME_UNKNOWN'
  | 'DB_ERROR'
  | 'DB_TIMEOUT'
  | 'RESULT_TOO_LARGE'
  | 'INSTANCE_UNAVAILABLE'
  | 'COMMAND_TIMED_OUT'
  | 'K8S_FORBIDDEN'
  | 'K8S_NOT_FOUND'
  | 'K8S_CONFLICT'
  | 'K8S_ERROR'
  | 'CANCELLED'
  | 'OIDC_UNAVAILABLE'
  | 'OIDC_INVALID'
export class UpstreamError extends AirlockError<UpstreamErrorCode> {
  /** Text that is safe to show the agent (e.g. the database's own error message); never an AWS body. */
  readonly publicDetail: string | undefined
  constructor(code: UpstreamErrorCode, message: string, options?: ErrorOptions & { publicDetail?: string }) {
    super(code, message, options)
    this.publicDetail = options?.publicDetail
  }
}

export type ConfigErrorCode = 'CONFIG_INVALID' | 'POLICY_INVALID'
export class ConfigError extends AirlockError<ConfigErrorCode> {}

export type AuditErrorCode =
  | 'AUDIT_WRITE_FAILED'
  | 'AUDIT_CLOSED'
  /** What a caller is told whenever the audit trail cannot record its call. */
  | 'AUDIT_UNAVAILABLE'
/** The audit trail could not record an event: callers must fail closed and not return results. */
export class AuditError extends AirlockError<AuditErrorCode> {}

export type StateErrorCode =
  /** The shared state store (Redis) did not answer in time: the request is refused, never decided without it. */
  | 'STATE_UNAVAILABLE'
/** The state every replica decides with could not be read or written: fail closed and retry later. */
export class StateError extends AirlockError<StateErrorCode> {}

export type InternalErrorCode = 'INTERNAL'
/** A failure of the gateway itself (a bug or an unexpected exception); the caller learns nothing more. */
export class InternalError extends AirlockError<InternalErrorCode> {}

/** Every code an agent can read in a tool result; each has a fixed sentence (src/mcp/tool-error-text.ts). */
export type CallerErrorCode = PolicyErrorCode | InputErrorCode | GuardErrorCode | UpstreamErrorCode | 'AUDIT_UNAVAILABLE' | StateErrorCode | InternalErrorCode
