import type { Clock } from '../../clock.js'
import type { CredentialStore, SandboxCredential } from '../sigv4/credential-store.js'
import { issueSession, roleId, stsTimestamp } from './issue-session.js'
import { stsFault, type StsFault } from './sts-fault.js'
import { isWebIdentityTrust, parseRoleArn, principalMatches, STS_NAME_PATTERN, type StsRole } from './sts-roles.js'
import type { XmlTree } from './sts-xml.js'
import { isStsFault, type WebIdentityVerifier } from './verify-web-identity.js'

const MIN_DURATION = 900
const DEFAULT_DURATION = 3600
/** Role chaining caps a session at one hour, whatever the role's maximum. */
const CHAINED_MAX = 3600

export interface StsActionDeps {
  readonly store: CredentialStore
  readonly clock: Clock
  readonly roles: readonly StsRole[]
  readonly verifyWebIdentity: WebIdentityVerifier
}

/** What an action answers: the `<Action>Result` body and what the trail records. */
export interface StsOutcome {
  readonly result: XmlTree
  readonly trail: Record<string, unknown>
}

type Params = ReadonlyMap<string, string>

function roleFor(deps: StsActionDeps, roleArn: string): StsRole | undefined {
  return deps.roles.find((r) => r.roleArn === roleArn)
}

function validationError(message: string): StsFault {
  return stsFault('ValidationError', message)
}

function checkSessionName(name: string | undefined): StsFault | undefined {
  if (name === undefined) return validationError("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
  if (!STS_NAME_PATTERN.test(name)) {
    return validationError(
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
    )
  }
  return undefined
}

function duration(raw: string | undefined, max: number): number | StsFault {
  if (raw === undefined) return Math.min(DEFAULT_DURATION, max)
  if (!/^\d{1,6}$/.test(raw)) return validationError("Value at 'durationSeconds' failed to satisfy constraint: Member must be a number")
  const seconds = Number(raw)
  if (seconds < MIN_DURATION) {
    return validationError("1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
  }
  if (seconds > max) {
    return validationError(
      `The requested DurationSeconds exceeds the MaxSessionDuration set for this role (${max} seconds).`,
    )
  }
  return seconds
}

function credentialsXml(issued: ReturnType<typeof issueSession>): XmlTree {
  return {
    AccessKeyId: issued.credential.accessKeyId,
    SecretAccessKey: issued.credential.secretAccessKey,
    SessionToken: issued.credential.sessionToken,
    Expiration: stsTimestamp(issued.credential.expiresAt),
  }
}

/** AssumeRoleWithWebIdentity: unsigned; the web identity token is the credential. */
export async function assumeRoleWithWebIdentity(deps: StsActionDeps, params: Params): Promise<StsOutcome | StsFault> {
  const roleArn = params.get('RoleArn')
  const token = params.get('WebIdentityToken')
  if (roleArn === undefined) return validationError("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
  if (token === undefined || token.length < 4 || token.length > 20_000) {
    return validationError("1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
  }
  const sessionName = params.get('RoleSessionName')
  const badName = checkSessionName(sessionName)
  if (badName !== undefined || sessionName === undefined) return badName ?? validationError('RoleSessionName is required')
  const role = roleFor(deps, roleArn)
  const parsed = parseRoleArn(roleArn)
  if (role === undefined || parsed === undefined || !isWebIdentityTrust(role.trust)) {
    return stsFault('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
  }
  const verified = await deps.verifyWebIdentity(token, role.trust)
  if (isStsFault(verified)) return verified
  const seconds = duration(params.get('DurationSeconds'), role.maxSessionSeconds ?? DEFAULT_DURATION)
  if (typeof seconds !== 'number') return seconds
  const issued = issueSession(deps, { ...parsed, roleArn }, sessionName, seconds, undefined)
  return {
    result: {
      Credentials: credentialsXml(issued),
      SubjectFromWebIdentityToken: verified.subject,
      AssumedRoleUser: { AssumedRoleId: issued.assumedRoleId, Arn: issued.assumedRoleArn },
      Provider: verified.issuer.replace(/^https:\/\//, ''),
      Audience: verified.audience,
    },
    trail: {
      principalArn: `${verified.issuer}:${verified.subject}`,
      roleArn,
      assumedRoleArn: issued.assumedRoleArn,
      issuedAccessKeyId: issued.credential.accessKeyId,
    },
  }
}

/** AssumeRole: SigV4-signed by `caller`; enforces trust, session name, duration and SourceIdentity rules. */
export function assumeRole(deps: StsActionDeps, params: Params, caller: SandboxCredential): StsOutcome | StsFault {
  const roleArn = params.get('RoleArn')
  if (roleArn === undefined) return validationError("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
  const sessionName = params.get('RoleSessionName')
  const badName = checkSessionName(sessionName)
  if (badName !== undefined || sessionName === undefined) return badName ?? validationError('RoleSessionName is required')
  const requestedSource = params.get('SourceIdentity')
  if (requestedSource !== undefined && (!STS_NAME_PATTERN.test(requestedSource) || requestedSource.toLowerCase().startsWith('aws:'))) {
    return validationError(
      "1 validation error detected: Value at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
    )
  }
  const denied = stsFault('AccessDenied', `User: ${caller.principalArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`)
  const role = roleFor(deps, roleArn)
  const parsed = parseRoleArn(roleArn)
  if (role === undefined || parsed === undefined || isWebIdentityTrust(role.trust)) return denied
  if (!role.trust.principals.some((p) => principalMatches(p, caller.principalArn))) return denied
  // Once a session carries a source identity, every chained session keeps exactly that value.
  if (caller.sourceIdentity !== undefined && requestedSource !== undefined && requestedSource !== caller.sourceIdentity) {
    return stsFault('AccessDenied', 'SourceIdentity cannot be changed once set on a role session.')
  }
  const sourceIdentity = requestedSource ?? caller.sourceIdentity
  if (sourceIdentity !== undefined && role.trust.allowSourceIdentity !== true) {
    return stsFault('AccessDenied', `User: ${caller.principalArn} is not authorized to perform: sts:SetSourceIdentity on resource: ${roleArn}`)
  }
  const chained = caller.principalArn.includes(':assumed-role/')
  const max = Math.min(role.maxSessionSeconds ?? DEFAULT_DURATION, chained ? CHAINED_MAX : Number.MAX_SAFE_INTEGER)
  const seconds = duration(params.get('DurationSeconds'), max)
  if (typeof seconds !== 'number') return seconds
  const issued = issueSession(deps, { ...parsed, roleArn }, sessionName, seconds, sourceIdentity)
  return {
    result: {
      Credentials: credentialsXml(issued),
      AssumedRoleUser: { AssumedRoleId: issued.assumedRoleId, Arn: issued.assumedRoleArn },
      SourceIdentity: sourceIdentity,
    },
    trail: { roleArn, assumedRoleArn: issued.assumedRoleArn, issuedAccessKeyId: issued.credential.accessKeyId, sessionName },
  }
}

/** GetCallerIdentity: who signed the request, as IAM names it. */
export function getCallerIdentity(caller: SandboxCredential, defaultAccount: string): { readonly Account: string; readonly Arn: string; readonly UserId: string } {
  const arn = caller.principalArn
  const fromArn = arn.split(':')[4] ?? ''
  const account = /^\d{12}$/.test(fromArn) ? fromArn : defaultAccount
  const assumed = /^arn:[a-z-]+:sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn)
  if (assumed !== null) {
    const [, acct, roleName, session] = assumed
    const partition = arn.split(':')[1] ?? 'aws'
    return { Account: account, Arn: arn, UserId: `${roleId(`arn:${partition}:iam::${acct ?? ''}:role/${roleName ?? ''}`)}:${session ?? ''}` }
  }
  return { Account: account, Arn: arn, UserId: 'AIDA' + roleId(arn).slice(4) }
}
