import { generateIamPlan, type IamPlanOptions } from '../access-plan/generate-iam-plan.js'
import { renderIamTerraform } from '../access-plan/render-iam-terraform.js'
import { buildPolicy } from '../policy/build-policy.js'
import { formatPolicyIssue } from '../policy/policy-issue.js'
import type { Policy } from '../policy/policy.js'
import type { CliCommand, CliIo } from './cli-io.js'
import { parseFlags, usageError, USAGE_ERROR } from './parse-flags.js'
import { readPolicyFiles } from './policy-files.js'

/** Policy paths from `--policy` (repeatable, comma-separated), else AIRLOCK_POLICY, else `policies`. */
export function policyPaths(given: readonly string[] | undefined, io: CliIo): string[] {
  const raw = given !== undefined && given.length > 0 ? given : [io.env['AIRLOCK_POLICY'] ?? 'policies']
  return raw.flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '')
}

/** Reads and builds the policy; prints every problem to stderr and returns undefined when it is invalid. */
export async function loadPolicyForCli(paths: readonly string[], io: CliIo): Promise<Policy | undefined> {
  const files = await readPolicyFiles(paths, { cwd: io.cwd })
  const built = files.issues.length === 0 ? buildPolicy(files.documents) : undefined
  const issues = built === undefined ? files.issues : built.ok ? [] : built.issues
  if (built === undefined || !built.ok) {
    for (const issue of issues) io.stderr(`${formatPolicyIssue(issue)}\n`)
    return undefined
  }
  return built.policy
}

export interface IamPlanArgs {
  readonly options: IamPlanOptions
  readonly paths: string[]
}

/** Parses the IAM plan flags shared by `iam-policy` and `verify --role-policy`; returns a usage message on error. */
export function parseIamPlanFlags(values: {
  readonly policy?: string[] | undefined
  readonly account?: string | undefined
  readonly 'oidc-provider-arn'?: string | undefined
  readonly 'service-account'?: string | undefined
  readonly 'gateway-role-arn'?: string | undefined
}, io: CliIo): IamPlanArgs | string {
  const account = values.account
  if (account !== undefined && !/^\d{12}$/.test(account)) return '--account: expected a 12-digit AWS account id'
  const provider = values['oidc-provider-arn']
  if (provider !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/[\w./-]+$/.test(provider)) {
    return '--oidc-provider-arn: expected arn:aws:iam::<account>:oidc-provider/<host>/id/<id>'
  }
  const gatewayRole = values['gateway-role-arn']
  if (gatewayRole !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(gatewayRole)) return '--gateway-role-arn: expected an IAM role ARN'
  let serviceAccount: { namespace: string; name: string } | undefined
  if (values['service-account'] !== undefined) {
    const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(values['service-account'])
    if (match === null || match[1] === undefined || match[3] === undefined) return '--service-account: expected <namespace>:<serviceaccount>'
    serviceAccount = { namespace: match[1], name: match[3] }
  }
  return {
    paths: policyPaths(values.policy, io),
    options: {
      ...(account === undefined ? {} : { accountId: account }),
      ...(provider === undefined ? {} : { oidcProviderArn: provider }),
      ...(serviceAccount === undefined ? {} : { serviceAccount }),
      ...(gatewayRole === undefined ? {} : { gatewayRoleArn: gatewayRole }),
    },
  }
}

export const IAM_PLAN_FLAGS = {
  policy: { type: 'string', multiple: true },
  account: { type: 'string' },
  'oidc-provider-arn': { type: 'string' },
  'service-account': { type: 'string' },
  'gateway-role-arn': { type: 'string' },
} as const

/**
 * `airlock iam-policy`: prints the least-privilege IAM for the gateway role (and per-connection
 * roles), the IRSA trust policy and EKS access with RBAC, as JSON or Terraform. Warnings go to
 * stderr. Exit 0 on success, 1 when the policy is invalid, 2 on usage errors.
 */
export const iamPolicyCommand: CliCommand = async function iamPolicyCommand(argv, io) {
  const parsed = parseFlags(argv, { ...IAM_PLAN_FLAGS, format: { type: 'string' } }, 'iam-policy', io, false)
  if (parsed === undefined) return USAGE_ERROR
  const format = parsed.values.format ?? 'json'
  if (format !== 'json' && format !== 'terraform') return usageError(io, 'iam-policy', '--format: expected json or terraform')
  const args = parseIamPlanFlags(parsed.values, io)
  if (typeof args === 'string') return usageError(io, 'iam-policy', args)
  const policy = await loadPolicyForCli(args.paths, io)
  if (policy === undefined) return 1
  const plan = generateIamPlan(policy, args.options)
  for (const warning of plan.warnings) io.stderr(`warning: ${warning}\n`)
  io.stdout(format === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : renderIamTerraform(plan))
  return 0
}
