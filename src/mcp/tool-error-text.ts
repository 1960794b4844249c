import { AuditError, GuardError, InputError, PolicyError, StateError, UpstreamError, type CallerErrorCode } from '../errors.js'
import { capCallerText, MAX_CALLER_MESSAGE } from './cap-caller-text.js'

/** Fixed, caller-safe sentences: one per code an agent can see, so a new code without one does not compile. */
const TEXT: Readonly<Record<CallerErrorCode, string>> = {
  POLICY_DENIED: 'Access denied by policy.',
  APPROVAL_REQUIRED: 'This access requires human approval, which has not been granted.',
  GRANT_EXPIRED: 'Your access period under this grant has ended; sign in again to start a new one (a refreshed token keeps its sign-in time and does not).',
  SIGN_IN_REQUIRED: 'Starting an access period under this grant needs a recent sign-in; sign in again to get a new token.',
  RATE_LIMITED: 'Too many calls; this one was refused and did nothing.',
  UNKNOWN_TOOL: 'There is no such tool.',
  APPROVAL_PENDING: 'This call waits for a human approval; it did nothing yet.',
  APPROVAL_DENIED: 'A human denied this exact call; it did nothing, and asking again with the same arguments gets the same answer.',
  SELF_APPROVAL: 'Nobody may approve or deny their own request.',
  NOT_APPROVER: 'You are not in an approver group of this request.',
  REQUEST_NOT_FOUND: 'There is no such approval request for you to review.',
  REQUEST_NOT_PENDING: 'This request is no longer pending (decided, used or expired).',
  INPUT_INVALID: 'The tool arguments are invalid.',
  SQL_PARSE_FAILED: 'The SQL could not be parsed, so it was refused.',
  SQL_MULTIPLE_STATEMENTS: 'Exactly one SQL statement is allowed per call.',
  SQL_NOT_READ_ONLY: 'This connection is read-only for you.',
  SQL_NOT_ALLOWED: 'This kind of statement is never allowed through Airlock (server files, stored code, temporary objects, session or transaction control, extensions, roles).',
  SQL_FUNCTION_NOT_BUILTIN: 'This connection is read-only for you, and the database holds user-defined code under a name the statement uses (a function, operator, type or cast), so it was not run; only built-ins may run (qualify built-in functions with pg_catalog. on PostgreSQL).',
  SQL_VALUE_TOO_LARGE: 'The statement builds a value or a number of rows larger than Airlock allows (repeated or padded strings, series, filled arrays); use smaller sizes.',
  SQL_MASKED_COLUMN: 'Masking refused the statement, so that masked values stay hidden.',
  SQL_SYSTEM_CATALOG: 'The statement reads system catalogs or server state (accounts, password hashes, other sessions, server settings), which your grant does not allow; an administrator can allow it per grant with sql.allowSystemCatalogs.',
  COMMAND_SYNTAX_REFUSED: 'The command uses shell syntax that is not allowed (operators, substitutions, redirections, globs or variables).',
  COMMAND_NOT_ALLOWED: 'The command does not match any command your grant allows.',
  PATH_NOT_ALLOWED: 'A path in the command does not resolve on the instance to a location inside the tree your grant allows (a symbolic link may lead out of it, or the path does not exist), so the command was not run.',
  INSTANCE_NOT_ALLOWED: 'The instance was refused.',
  K8S_NOT_ALLOWED: 'Your grant does not allow this Kubernetes operation.',
  AWS_THROTTLED: 'AWS is throttling requests; try again shortly.',
  AWS_DENIED: 'The gateway is not permitted to perform this AWS operation.',
  AWS_CREDENTIALS: 'The gateway could not obtain its AWS credentials.',
  AWS_NOT_FOUND: 'The AWS resource behind this connection was not found.',
  AWS_UNAVAILABLE: 'The AWS service is unavailable; try again shortly.',
  AWS_ERROR: 'The AWS call failed.',
  AWS_TIMEOUT: 'AWS did not answer in time; try again shortly.',
  AWS_OUTCOME_UNKNOWN: 'The request may have reached AWS, so the action may have run; it was not retried. Check its effect before trying again.',
  DB_ERROR: 'The database returned an error.',
  DB_TIMEOUT: 'The statement exceeded its time limit.',
  RESULT_TOO_LARGE: 'The result is larger than allowed; narrow the query.',
  INSTANCE_UNAVAILABLE: 'The instance is not reachable through SSM (offline or not managed).',
  COMMAND_TIMED_OUT: 'The command exceeded its time limit.',
  K8S_FORBIDDEN: 'The cluster refused this operation for the gateway.',
  K8S_NOT_FOUND: 'The Kubernetes object was not found.',
  K8S_CONFLICT: 'The Kubernetes object changed concurrently; try again.',
  K8S_ERROR: 'The Kubernetes API call failed.',
  CANCELLED: 'The call was cancelled.',
  OIDC_UNAVAILABLE: 'The identity provider could not be reached.',
  OIDC_INVALID: 'The identity provider returned an unusable answer.',
  AUDIT_UNAVAILABLE: 'The call could not be recorded in the audit trail, so its result is withheld.',
  STATE_UNAVAILABLE: 'The gateway could not reach its state store, so the call was refused and did nothing; retry in a few seconds.',
  INTERNAL: 'The gateway failed to complete the call.',
}

export interface CallerError {
  readonly code: CallerErrorCode
  readonly text: string
}

/**
 * What the agent is told about an error. Policy and guard messages are written for the caller
 * (they describe the agent's own request, so they are capped and cleaned like any echo of it);
 * upstream errors expose only their vetted public detail; audit failures read AUDIT_UNAVAILABLE,
 * state-store failures STATE_UNAVAILABLE; anything else (auth, config, a bug) reads INTERNAL.
 */
export function callerError(error: unknown): CallerError {
  if (error instanceof PolicyError || error instanceof GuardError || error instanceof InputError) {
    return { code: error.code, text: withDetail(TEXT[error.code], capCallerText(error.message, MAX_CALLER_MESSAGE)) }
  }
  if (error instanceof UpstreamError) {
    const base = TEXT[error.code]
    return { code: error.code, text: error.publicDetail === undefined ? base : withDetail(base, capCallerText(error.publicDetail, MAX_CALLER_MESSAGE)) }
  }
  if (error instanceof AuditError) return { code: 'AUDIT_UNAVAILABLE', text: TEXT.AUDIT_UNAVAILABLE }
  if (error instanceof StateError) return { code: error.code, text: TEXT[error.code] }
  return { code: 'INTERNAL', text: TEXT.INTERNAL }
}

const normalise = (sentence: string) => sentence.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim()

/** The fixed sentence, then the detail without any sentence already said (a message may restate its code's sentence). */
function withDetail(fixed: string, detail: string): string {
  const said = new Set(fixed.split(/(?<=[.!?])\s+/).map(normalise))
  const kept = detail.split(/(?<=[.!?])\s+/).filter((sentence) => {
    const key = normalise(sentence)
    if (key === '' || said.has(key)) return false
    said.add(key)
    return true
  })
  return kept.length === 0 ? fixed : `${fixed} ${kept.join(' ')}`
}

/** The fixed sentence for `code`, with nothing from the request in it. */
export function fixedText(code: CallerErrorCode): string {
  return TEXT[code]
}
