import type { NamedConnection, RdsDataConnection, SsmConnection, EksConnection } from '../policy/connection-schema.js'
import type { Policy } from '../policy/policy.js'
import { eksAccessFor, type EksAccess } from './eks-access.js'

export interface IamStatement {
  readonly Sid: string
  readonly Effect: 'Allow'
  readonly Action: readonly string[]
  /** Absent in trust policies. */
  readonly Resource?: readonly string[]
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>
  readonly Principal?: Readonly<Record<string, string>>
}

export interface IamPolicyDocument {
  readonly Version: '2012-10-17'
  readonly Statement: readonly IamStatement[]
}

export interface IamPlanOptions {
  /** Account for instance and cluster ARNs; otherwise taken from the connections' own ARNs, else `*`. */
  readonly accountId?: string
  /** The IRSA OIDC provider, e.g. arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC. */
  readonly oidcProviderArn?: string
  readonly serviceAccount?: { readonly namespace: string; readonly name: string }
  /** The gateway role (principal in per-connection role trust policies); default role `airlock-gateway`. */
  readonly gatewayRoleArn?: string
}

export interface ConnectionRolePlan {
  readonly roleArn: string
  readonly connections: readonly string[]
  readonly policy: IamPolicyDocument
  readonly trustPolicy: IamPolicyDocument
}

export interface IamPlan {
  readonly gatewayRole: { readonly roleArn: string | undefined; readonly policy: IamPolicyDocument; readonly trustPolicy: IamPolicyDocument | undefined }
  readonly connectionRoles: readonly ConnectionRolePlan[]
  readonly eks: readonly EksAccess[]
  readonly warnings: readonly string[]
}

export const RDS_DATA_ACTIONS = [
  'rds-data:BatchExecuteStatement',
  'rds-data:BeginTransaction',
  'rds-data:CommitTransaction',
  'rds-data:ExecuteStatement',
  'rds-data:RollbackTransaction',
] as const
/** These SSM actions support no resource-level scoping (Service Authorization Reference): `*` only. */
export const SSM_UNSCOPED_ACTIONS = ['ssm:CancelCommand', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'] as const
/** IAM's limit on the total size of a role's inline policies (characters, whitespace excluded). */
export const INLINE_POLICY_LIMIT = 10_240
export const DEFAULT_SERVICE_ACCOUNT = { namespace: 'airlock', name: 'airlock-gateway' } as const

/** Partition for a region: aws, aws-cn or aws-us-gov. */
export function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws'
}

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort()
const sidPart = (id: string): string => id.split(/[^A-Za-z0-9]+/).map((w) => (w[0] ?? '').toUpperCase() + w.slice(1)).join('')

interface Scope {
  readonly policy: Policy
  readonly account: (c: NamedConnection) => string
  readonly warnings: string[]
}

function readOnlyOnly(scope: Scope, c: RdsDataConnection & { id: string }): { readOnly: boolean; readWrite: boolean } {
  let readOnly = false
  let readWrite = false
  for (const grant of scope.policy.grants) {
    if (!grant.connections.includes(c.id)) continue
    if ((grant.sql?.mode ?? 'read-only') === 'read-write') readWrite = true
    else readOnly = true
  }
  return { readOnly, readWrite }
}

/** The least-privilege statements for a set of connections the identity calls directly. */
function dataStatements(scope: Scope, connections: readonly NamedConnection[]): IamStatement[] {
  const rds = connections.filter((c): c is NamedConnection<RdsDataConnection> => c.kind === 'rds-data')
  const ssm = connections.filter((c): c is NamedConnection<SsmConnection> => c.kind === 'ssm')
  const eks = connections.filter((c): c is NamedConnection<EksConnection> => c.kind === 'eks')
  const out: IamStatement[] = []
  if (rds.length > 0) {
    out.push({ Sid: 'RdsDataApi', Effect: 'Allow', Action: [...RDS_DATA_ACTIONS], Resource: sorted(rds.map((c) => c.resourceArn)) })
    const secrets: string[] = []
    for (const c of rds) {
      const modes = readOnlyOnly(scope, c)
      // Read-only grants use the read-only database user when there is one; the main secret is then never needed for them.
      if (modes.readWrite || c.readOnlySecretArn === undefined) secrets.push(c.secretArn)
      if (modes.readOnly && c.readOnlySecretArn !== undefined) secrets.push(c.readOnlySecretArn)
    }
    out.push({ Sid: 'RdsDataSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: sorted(secrets) })
  }
  if (ssm.length > 0) {
    out.push({
      Sid: 'SsmRunShellScriptDocument',
      Effect: 'Allow',
      Action: ['ssm:SendCommand'],
      Resource: sorted(ssm.map((c) => `arn:${partitionOf(c.region)}:ssm:${c.region}::document/AWS-RunShellScript`)),
    })
    const instances = ssm.flatMap((c) =>
      (c.instanceIds ?? []).map((id) =>
        id.startsWith('mi-')
          ? `arn:${partitionOf(c.region)}:ssm:${c.region}:${scope.account(c)}:managed-instance/${id}`
          : `arn:${partitionOf(c.region)}:ec2:${c.region}:${scope.account(c)}:instance/${id}`,
      ),
    )
    if (instances.length > 0) out.push({ Sid: 'SsmSendCommandToInstances', Effect: 'Allow', Action: ['ssm:SendCommand'], Resource: sorted(instances) })
    for (const c of [...ssm].sort((a, b) => a.id.localeCompare(b.id))) {
      const tags = Object.entries(c.targets ?? {}).sort(([a], [b]) => a.localeCompare(b))
      if (tags.length === 0) continue
      const partition = partitionOf(c.region)
      out.push({
        Sid: `SsmSendCommandTagged${sidPart(c.id)}`,
        Effect: 'Allow',
        Action: ['ssm:SendCommand'],
        Resource: [`arn:${partition}:ec2:${c.region}:${scope.account(c)}:instance/*`, `arn:${partition}:ssm:${c.region}:${scope.account(c)}:managed-instance/*`],
        // All tag keys must match, as SSM Targets do.
        Condition: { StringEquals: Object.fromEntries(tags.map(([k, v]) => [`ssm:resourceTag/${k.slice('tag:'.length)}`, sorted(v)])) },
      })
    }
    out.push({ Sid: 'SsmCommandResults', Effect: 'Allow', Action: [...SSM_UNSCOPED_ACTIONS], Resource: ['*'] })
  }
  if (eks.length > 0) {
    out.push({
      Sid: 'EksDescribeCluster',
      Effect: 'Allow',
      Action: ['eks:DescribeCluster'],
      Resource: sorted(eks.map((c) => `arn:${partitionOf(c.region)}:eks:${c.region}:${scope.account(c)}:cluster/${c.cluster}`)),
    })
  }
  return out
}

const document = (statements: readonly IamStatement[]): IamPolicyDocument => ({ Version: '2012-10-17', Statement: statements })

/** The IRSA trust policy: only this service account's tokens, for STS, from this cluster's OIDC provider. */
export function irsaTrustPolicy(oidcProviderArn: string, serviceAccount: { readonly namespace: string; readonly name: string } = DEFAULT_SERVICE_ACCOUNT): IamPolicyDocument {
  const provider = oidcProviderArn.replace(/^arn:[^:]+:iam::\d{12}:oidc-provider\//, '')
  return document([
    {
      Sid: 'IrsaServiceAccount',
      Effect: 'Allow',
      Principal: { Federated: oidcProviderArn },
      Action: ['sts:AssumeRoleWithWebIdentity'],
      Condition: {
        StringEquals: {
          [`${provider}:aud`]: 'sts.amazonaws.com',
          [`${provider}:sub`]: `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`,
        },
      },
    },
  ])
}

function connectionRoleTrust(gatewayRoleArn: string): IamPolicyDocument {
  return document([
    {
      Sid: 'AirlockGatewayWithSourceIdentity',
      Effect: 'Allow',
      Principal: { AWS: gatewayRoleArn },
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      // Sessions must carry the agent's identity and Airlock's session-name prefix.
      Condition: { Null: { 'sts:SourceIdentity': 'false' }, StringLike: { 'sts:RoleSessionName': 'airlock-*' } },
    },
  ])
}

function accountFromArn(arn: string | undefined): string | undefined {
  const account = arn?.split(':')[4]
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined
}

/**
 * Generates the IAM the policy needs and nothing more: the gateway role's policy (connections it
 * reaches directly, plus AssumeRole/SetSourceIdentity on per-connection roles), each connection
 * role's policy and trust, the IRSA trust, and EKS access entries with matching RBAC. Only
 * connections some grant reaches are included. Statement order and Sids are deterministic.
 */
export function generateIamPlan(policy: Policy, options: IamPlanOptions = {}): IamPlan {
  const warnings: string[] = []
  const gatewayRoleArn = options.gatewayRoleArn ?? (options.accountId === undefined ? undefined : `arn:aws:iam::${options.accountId}:role/airlock-gateway`)
  const used = new Set(policy.grants.flatMap((g) => g.connections))
  const connections = [...policy.connections.values()].filter((c) => used.has(c.id)).sort((a, b) => a.id.localeCompare(b.id))
  const warnedAccount = new Set<string>()
  const scope: Scope = {
    policy,
    warnings,
    account(c) {
      const found = options.accountId ?? accountFromArn(c.roleArn) ?? accountFromArn(c.kind === 'rds-data' ? c.resourceArn : undefined)
      if (found !== undefined) return found
      if (!warnedAccount.has(c.id)) warnings.push(`connection ${c.id}: no account known (pass --account); its ARNs use "*" for the account`)
      warnedAccount.add(c.id)
      return '*'
    },
  }
  const direct = connections.filter((c) => c.roleArn === undefined)
  const byRole = new Map<string, NamedConnection[]>()
  for (const c of connections) if (c.roleArn !== undefined) byRole.set(c.roleArn, [...(byRole.get(c.roleArn) ?? []), c])

  const statements = dataStatements(scope, direct)
  const roleArns = sorted(byRole.keys())
  if (roleArns.length > 0) {
    statements.push({ Sid: 'AssumeConnectionRoles', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Resource: roleArns })
    if (gatewayRoleArn === undefined) warnings.push('connection roles need a trust policy naming the gateway role: pass --account or --gateway-role-arn')
  }
  if (statements.length === 0) warnings.push('no grant reaches any connection: the gateway role needs no permissions')
  const size = JSON.stringify(document(statements)).length
  if (size > INLINE_POLICY_LIMIT) {
    warnings.push(`the gateway policy is ${size} characters; IAM allows ${INLINE_POLICY_LIMIT} for a role's inline policies: split connections across roles (roleArn)`)
  }
  if (options.oidcProviderArn === undefined) warnings.push('no --oidc-provider-arn: the IRSA trust policy is not generated')

  return {
    gatewayRole: {
      roleArn: gatewayRoleArn,
      policy: document(statements),
      trustPolicy: options.oidcProviderArn === undefined ? undefined : irsaTrustPolicy(options.oidcProviderArn, options.serviceAccount),
    },
    connectionRoles: roleArns.map((roleArn) => {
      const members = byRole.get(roleArn) ?? []
      return {
        roleArn,
        connections: members.map((c) => c.id),
        policy: document(dataStatements(scope, members)),
        trustPolicy: connectionRoleTrust(gatewayRoleArn ?? 'arn:aws:iam::<account>:role/airlock-gateway'),
      }
    }),
    eks: connections
      .filter((c): c is NamedConnection<EksConnection> => c.kind === 'eks')
      .map((c) => eksAccessFor(c, policy.grants, c.roleArn ?? gatewayRoleArn, warnings)),
    warnings,
  }
}
