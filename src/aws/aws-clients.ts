import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { EKSClient } from '@aws-sdk/client-eks'
import type { RDSDataClient } from '@aws-sdk/client-rds-data'
import type { SSMClient } from '@aws-sdk/client-ssm'
import type { Principal } from '../auth/principal.js'

/** Whom the gateway acts for (recorded by AWS as source identity) and where. */
export interface AwsTarget {
  readonly region: string
  /** When set, the gateway assumes this role as itself, tagged with the principal's identity. */
  readonly roleArn?: string | undefined
  readonly principal: Principal
}

/** Whom AWS sees a call come from, and where: the identity tuple every identity-keyed cache is keyed by. */
export type AwsIdentity = readonly [region: string, roleArn: string | undefined, issuer: string | undefined, subject: string | undefined]

/**
 * The identity a call is made as: per region, and per (role, issuer, subject) for assumed roles,
 * whose sessions carry the agent's identity; the gateway's own credentials are shared by everyone,
 * so for them the principal is left out.
 */
export function awsIdentity(target: AwsTarget): AwsIdentity {
  if (target.roleArn === undefined) return [target.region, undefined, undefined, undefined]
  return [target.region, target.roleArn, target.principal.issuer, target.principal.subject]
}

/**
 * The gateway's AWS clients, always signed with the gateway's own credentials (default chain /
 * IRSA, optionally an assumed role); never with anything from the agent. Built in src/cli.
 */
export interface AwsClients {
  rdsData(target: AwsTarget): RDSDataClient
  ssm(target: AwsTarget): SSMClient
  eks(target: AwsTarget): EKSClient
  /** Credentials for presigning (the EKS token); same identity as the clients above. */
  credentials(target: AwsTarget): AwsCredentialIdentityProvider
  /** STS endpoint hostname and region to presign GetCallerIdentity against. */
  stsEndpoint(region: string): URL
  /** The bound on one request the clients apply; tools apply it to calls made outside the SDK (the Kubernetes API). */
  readonly requestTimeoutMs: number
}
