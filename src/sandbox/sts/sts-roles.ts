import { z } from 'zod'

/** IAM's trust for an IRSA role: the OIDC provider, the audience and the allowed `sub` values. */
export interface WebIdentityTrust {
  readonly issuer: string
  readonly audience: string
  readonly subjects: readonly string[]
}

/** IAM's trust for a role assumed with AWS credentials (role chaining or users). */
export interface PrincipalTrust {
  /** Role ARNs (any session of that role) or exact principal ARNs allowed to call AssumeRole. */
  readonly principals: readonly string[]
  /** Whether the trust policy grants `sts:SetSourceIdentity`; without it a SourceIdentity is refused. */
  readonly allowSourceIdentity?: boolean
}

export interface StsRole {
  readonly roleArn: string
  readonly trust: WebIdentityTrust | PrincipalTrust
  /** The role's MaxSessionDuration (3600..43200 in IAM). */
  readonly maxSessionSeconds?: number
}

export const ROLE_ARN_PATTERN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/
/** RoleSessionName and SourceIdentity: `[\w+=,.@-]{2,64}` (STS API reference). */
export const STS_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/

export interface ParsedRoleArn {
  readonly partition: string
  readonly accountId: string
  readonly roleName: string
}

export function parseRoleArn(arn: string): ParsedRoleArn | undefined {
  const match = ROLE_ARN_PATTERN.exec(arn)
  if (match === null) return undefined
  const [, partition, accountId, roleName] = match
  if (partition === undefined || accountId === undefined || roleName === undefined) return undefined
  return { partition, accountId, roleName }
}

export const ASSUMED_ROLE_ARN_PATTERN = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/

/** Whether a trust policy principal (a role ARN or an exact ARN) covers the caller. */
export function principalMatches(trusted: string, callerArn: string): boolean {
  if (trusted === callerArn) return true
  const role = parseRoleArn(trusted)
  const session = ASSUMED_ROLE_ARN_PATTERN.exec(callerArn)
  if (role === undefined || session === null) return false
  return session[1] === role.partition && session[2] === role.accountId && session[3] === role.roleName
}

export function isWebIdentityTrust(trust: WebIdentityTrust | PrincipalTrust): trust is WebIdentityTrust {
  return 'issuer' in trust
}

const webIdentityTrustSchema = z.strictObject({
  issuer: z.url(),
  audience: z.string().min(1),
  subjects: z.array(z.string().min(1)).min(1),
})
const principalTrustSchema = z.strictObject({
  principals: z.array(z.string().min(1)).min(1),
  allowSourceIdentity: z.boolean().optional(),
})
export const stsRoleSchema = z.strictObject({
  roleArn: z.string().regex(ROLE_ARN_PATTERN, 'expected an IAM role ARN'),
  trust: z.union([webIdentityTrustSchema, principalTrustSchema]),
  maxSessionSeconds: z.number().int().min(3600).max(43_200).optional(),
})
