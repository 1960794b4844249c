import { z } from 'zod'
import type { IamPolicyDocument } from '../access-plan/generate-iam-plan.js'
import { fail, pass, warn, type PostureCheck } from './posture-check.js'

const stringOrList = z.union([z.string(), z.array(z.string())]).transform((v) => (typeof v === 'string' ? [v] : v))
// Another system's document: loose, but every field we reason about is typed.
const statementSchema = z.looseObject({
  Sid: z.string().optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Action: stringOrList.optional(),
  NotAction: stringOrList.optional(),
  Resource: stringOrList.optional(),
  NotResource: stringOrList.optional(),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
})
const documentSchema = z.looseObject({
  Version: z.string().optional(),
  Statement: z.union([statementSchema, z.array(statementSchema)]).transform((s) => (Array.isArray(s) ? s : [s])),
})

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).sort().join(',')}]`
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** action (lower-case) → resource → the conditions allowed with it ('' = unconditional). */
type Allowed = Map<string, Map<string, Set<string>>>

function allowedOf(expected: IamPolicyDocument): Allowed {
  const out: Allowed = new Map()
  for (const s of expected.Statement) {
    for (const action of s.Action) {
      const byResource = out.get(action.toLowerCase()) ?? new Map<string, Set<string>>()
      for (const resource of s.Resource ?? []) {
        byResource.set(resource, (byResource.get(resource) ?? new Set()).add(s.Condition === undefined ? '' : canonical(s.Condition)))
      }
      out.set(action.toLowerCase(), byResource)
    }
  }
  return out
}

/**
 * Compares an attached IAM policy with the generated least-privilege one: wildcard actions or
 * resources, NotAction/NotResource, actions the gateway does not need and resources (or
 * conditions) broader than needed FAIL; permissions the gateway needs but lacks WARN.
 */
export function compareRolePolicy(attached: unknown, expected: IamPolicyDocument, source: string): PostureCheck[] {
  const parsed = documentSchema.safeParse(attached)
  if (!parsed.success) return [fail('role-policy.invalid', 'not an IAM policy document (Statement with Effect/Action/Resource)', source)]
  const allowed = allowedOf(expected)
  const checks: PostureCheck[] = []
  const covered = new Set<string>()
  parsed.data.Statement.forEach((statement, index) => {
    const at = `${source}: Statement[${index}]${statement.Sid === undefined ? '' : ` (${statement.Sid})`}`
    if (statement.Effect === 'Deny') return
    if (statement.NotAction !== undefined) checks.push(fail('role-policy.not-action', 'Allow with NotAction grants everything not listed', at))
    if (statement.NotResource !== undefined) checks.push(fail('role-policy.not-resource', 'Allow with NotResource grants every other resource', at))
    const condition = statement.Condition === undefined ? '' : canonical(statement.Condition)
    for (const action of statement.Action ?? []) {
      if (action.includes('*') || action.includes('?')) {
        checks.push(fail('role-policy.wildcard-action', `wildcard action "${action}"`, at))
        continue
      }
      const byResource = allowed.get(action.toLowerCase())
      if (byResource === undefined) {
        checks.push(fail('role-policy.extra-action', `"${action}" is not needed by the policy`, at))
        continue
      }
      for (const resource of statement.Resource ?? []) {
        const conditions = byResource.get(resource)
        if (conditions === undefined) {
          checks.push(
            fail(
              resource === '*' ? 'role-policy.wildcard-resource' : 'role-policy.resource-scope',
              resource === '*' ? `"${action}" on Resource "*" where narrower resources are supported` : `"${action}" on "${resource}" is broader than or outside what the policy needs`,
              at,
            ),
          )
        } else if (conditions.has('') || conditions.has(condition)) {
          covered.add(`${action.toLowerCase()}\n${resource}`)
        } else {
          checks.push(fail('role-policy.condition', `"${action}" on "${resource}" lacks the expected condition`, at))
        }
      }
    }
  })
  for (const s of expected.Statement) {
    for (const action of s.Action) {
      for (const resource of s.Resource ?? []) {
        const key = `${action.toLowerCase()}\n${resource}`
        if (covered.has(key)) continue
        covered.add(key)
        checks.push(warn('role-policy.missing', `missing "${action}" on "${resource}": the gateway will be denied`, source))
      }
    }
  }
  if (!checks.some((c) => c.status === 'FAIL')) checks.push(pass('role-policy', 'no wildcards and nothing beyond what the policy needs', source))
  return checks
}
