import { systemClock, type Clock } from '../clock.js'
import { buildPolicy } from '../policy/build-policy.js'
import { checkToolReferences } from '../policy/check-tool-references.js'
import { isBuiltInGrant } from '../policy/approver-grant.js'
import { explainAccess, type AccessExplanation, type ApprovalDuty, type GrantLimits } from '../policy/explain-access.js'
import { policyJsonSchema } from '../policy/policy-json-schema.js'
import { formatPolicyIssue } from '../policy/policy-issue.js'
import type { ToolKinds } from '../policy/tool-access.js'
import type { CliCommand, CliIo } from './cli-io.js'
import { parseFlags, usageError, USAGE_ERROR } from './parse-flags.js'
import { readPolicyFiles } from './policy-files.js'

export const DEFAULT_EXPLAIN_POLICY = 'policies/demo.json'


export interface PolicyCommandDeps {
  /** The gateway's tools, so `check` can flag grants naming tools that do not exist or cannot fit. */
  readonly tools: readonly ToolKinds[]
  readonly clock?: Clock
}

/**
 * `airlock policy check <paths…>`: exit 0 and a summary when valid, 1 with one `file: path: message`
 * line per problem. `policy explain`: what an identity may do and which grant gives it (policy from
 * `--policy`, else AIRLOCK_POLICY, else policies/demo.json). `policy schema`: the JSON Schema.
 * Usage errors exit 2 with one line. `argv` is what follows `airlock policy`.
 */
export function createPolicyCommand(deps: PolicyCommandDeps): CliCommand {
  const clock = deps.clock ?? systemClock
  return async function policyCommand(argv, io) {
    const [sub, ...rest] = argv
    switch (sub) {
      case 'check':
        return check(rest, io, deps.tools, clock)
      case 'explain':
        return explain(rest, io, deps.tools, clock)
      case 'schema':
        if (parseFlags(rest, {}, 'policy schema', io, false) === undefined) return USAGE_ERROR
        io.stdout(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`)
        return 0
      default:
        return usageError(io, 'policy', sub === undefined ? 'which one: check, explain or schema?' : `unknown subcommand ${JSON.stringify(sub)}`)
    }
  }
}

async function check(argv: readonly string[], io: CliIo, tools: readonly ToolKinds[], clock: Clock): Promise<number> {
  const parsed = parseFlags(argv, {}, 'policy check', io)
  if (parsed === undefined) return USAGE_ERROR
  if (parsed.positionals.length === 0) return usageError(io, 'policy check', 'give the policy files or directories to check')
  const files = await readPolicyFiles(parsed.positionals, { cwd: io.cwd })
  const built = buildPolicy(files.documents, { nowMs: clock.now() })
  const issues = [...files.issues, ...(built.ok ? checkToolReferences(built.policy, tools) : built.issues)]
  for (const warning of built.warnings) io.stdout(`${formatPolicyIssue({ ...warning, message: `warning: ${warning.message}` })}\n`)
  if (issues.length > 0 || !built.ok) {
    for (const issue of issues) io.stdout(`${formatPolicyIssue(issue)}\n`)
    return 1
  }
  const { policy } = built
  const warnings = built.warnings.length === 0 ? '' : `, ${plural(built.warnings.length, 'warning')}`
  const fileGrants = policy.grants.filter((g) => !isBuiltInGrant(g))
  const approvals = fileGrants.flatMap((g) => {
    const a = g.approval
    if (a === undefined) return []
    const buys = a.use === 'once' ? 'one call' : `the same call for ${duration(Math.min(a.accessTtl, g.ttl))}`
    return [`approval: grant ${g.id} approved by ${a.approverGroups.join(', ')} (buys ${buys}; pending for ${duration(a.pendingTtl)}${a.reasonRequired ? '; reason required' : ''})\n`]
  })
  io.stdout(
    `OK: ${plural(files.documents.length, 'file')}, ${plural(policy.connections.size, 'connection')}, ${plural(fileGrants.length, 'grant')}${warnings}\n` +
      approvals.join('') +
      `fingerprint: ${policy.fingerprint}\n`,
  )
  return 0
}

async function explain(argv: readonly string[], io: CliIo, tools: readonly ToolKinds[], clock: Clock): Promise<number> {
  const parsed = parseFlags(
    argv,
    { groups: { type: 'string' }, subject: { type: 'string' }, policy: { type: 'string', multiple: true }, json: { type: 'boolean' } },
    'policy explain',
    io,
    false,
  )
  if (parsed === undefined) return USAGE_ERROR
  const { values } = parsed
  if (values.groups === undefined && values.subject === undefined) return usageError(io, 'policy explain', 'whose access: give --groups or --subject')
  const groups = splitList(values.groups)
  const subject = values.subject === undefined || values.subject === '' ? undefined : values.subject
  const paths = values.policy !== undefined ? values.policy.flatMap((p) => splitList(p)) : splitList(io.env.AIRLOCK_POLICY ?? DEFAULT_EXPLAIN_POLICY)
  if (paths.length === 0) return usageError(io, 'policy explain', '--policy: no paths given')

  const nowMs = clock.now()
  const files = await readPolicyFiles(paths, { cwd: io.cwd })
  const built = buildPolicy(files.documents, { nowMs })
  if (files.issues.length > 0 || !built.ok) {
    for (const issue of [...files.issues, ...(built.ok ? [] : built.issues)]) io.stderr(`${formatPolicyIssue(issue)}\n`)
    return 1
  }
  const explanation = explainAccess(built.policy, { groups, subject }, nowMs, { tools })
  if (values.json === true) {
    io.stdout(`${JSON.stringify({ identity: { groups, ...(subject === undefined ? {} : { subject }) }, ...explanation }, null, 2)}\n`)
  } else {
    io.stdout(renderExplanation(groups, subject, explanation))
  }
  return 0
}

function renderExplanation(groups: readonly string[], subject: string | undefined, explanation: AccessExplanation): string {
  const lines = [`identity: groups ${groups.length === 0 ? '(none)' : groups.join(', ')}; subject ${subject ?? '(none)'}`]
  for (const tool of explanation.tools) {
    if (tool.connections.length === 0) lines.push(`${tool.tool}: grant ${tool.grantId} (${limitsText(tool.limits)})`)
    for (const c of tool.connections) lines.push(`${tool.tool} on ${c.connection} (${c.kind}): grant ${c.grantId} (${limitsText(c.limits)})`)
  }
  for (const a of explanation.approvalRequired) {
    const on = a.connections.length === 0 ? '' : ` on ${a.connections.join(', ')}`
    lines.push(`needs approval: grant ${a.grantId} (${a.tools.join(', ')}${on}; approvers ${a.approverGroups.join(', ')})`)
  }
  for (const a of explanation.approves) lines.push(`may approve: ${approvalDutyText(a)}`)
  for (const e of explanation.expired) lines.push(`expired: grant ${e.grantId} (notAfter ${e.notAfter})`)
  if (explanation.tools.length === 0 && explanation.approvalRequired.length === 0) lines.push('no access: no grant matches this identity')
  return `${lines.join('\n')}\n`
}

function approvalDutyText(a: ApprovalDuty): string {
  const on = a.connections.length === 0 ? '' : ` on ${a.connections.join(', ')}`
  const who = [...a.requesters.groups.map((g) => `group ${g}`), ...a.requesters.subjects.map((s) => `subject ${s}`)].join(', ')
  const buys = a.use === 'once' ? 'one call' : `the same call for ${duration(a.accessSeconds)}`
  return `grant ${a.grantId} (${a.tools.join(', ')}${on}; asked by ${who}; an approval buys ${buys}; pending for ${duration(a.pendingSeconds)})`
}

function limitsText(limits: GrantLimits): string {
  const parts = [`ttl ${duration(limits.ttlSeconds)}`]
  if (limits.notAfter !== undefined) parts.push(`until ${limits.notAfter}`)
  if (limits.calls?.callsPerMinute !== undefined) parts.push(`${limits.calls.callsPerMinute} calls/min`)
  if (limits.calls?.concurrentCalls !== undefined) parts.push(`${limits.calls.concurrentCalls} at once`)
  if (limits.sql !== undefined) {
    const { sql } = limits
    parts.push(`${sql.mode}, max ${sql.maxRows} rows, timeout ${sql.timeoutSeconds}s`)
    const masks = Object.entries(sql.maskColumns).map(([column, rule]) => `${column}=${rule}`)
    if (masks.length > 0) parts.push(`mask ${masks.join(', ')}`)
    if (sql.allowSystemCatalogs) parts.push('system catalogs readable')
  }
  if (limits.ssm !== undefined) {
    parts.push(`commands ${limits.ssm.commands.map((c) => c.join(' ')).join(' | ')}`)
    parts.push(`timeout ${limits.ssm.timeoutSeconds}s, output up to ${limits.ssm.maxOutputBytes} bytes`)
  }
  if (limits.kubectl !== undefined) {
    const k = limits.kubectl
    parts.push(`verbs ${k.verbs.join(',')}; resources ${k.resources.join(',')}; namespaces ${k.namespaces.join(',')}`)
    if (k.revealSecretValues) parts.push('secret values shown')
  }
  return parts.join('; ')
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`
  if (seconds % 60 === 0) return `${seconds / 60}m`
  return `${seconds}s`
}

function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
