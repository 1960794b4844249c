import { APPROVER_GRANT_ID, approverGrant } from './approver-grant.js'
import type { ConnectionKind, NamedConnection } from './connection-schema.js'
import { grantNotAfterMs } from './grant-matches.js'
import { policyErrorMap } from './policy-error-map.js'
import { formatIssuePath, type PolicyIssue } from './policy-issue.js'
import { policyFileSchema, type Grant, type PolicyFile } from './policy-schema.js'
import { policyFingerprint } from './policy-fingerprint.js'
import type { Policy } from './policy.js'
import { resolveGrant } from './resolve-grant.js'
import { DEFAULT_SQL_CONSTRAINTS } from './sql-constraints.js'

/** One policy file's parsed JSON and the name to report it by. */
export interface PolicyDocument {
  readonly source: string
  readonly data: unknown
}

export type BuildPolicyResult =
  | { readonly ok: true; readonly policy: Policy; readonly warnings: readonly PolicyIssue[] }
  | { readonly ok: false; readonly issues: readonly PolicyIssue[]; readonly warnings: readonly PolicyIssue[] }

export interface BuildPolicyOptions {
  /** When given, grants already past `notAfter` are reported as warnings. */
  readonly nowMs?: number
}

/** The `sources` key of a `toolScopes` entry (see Policy.sources). */
export function toolScopesKey(tool: string): string {
  return `toolScopes.${tool}`
}

// Which constraint block belongs to which connection kind.
const BLOCKS = [
  ['sql', 'rds-data'],
  ['ssm', 'ssm'],
  ['kubectl', 'eks'],
] as const satisfies readonly (readonly [keyof Grant, ConnectionKind])[]

interface Located {
  readonly source: string
  readonly path: string
}

/**
 * Validates policy documents and merges them into one immutable {@link Policy}: connection and
 * grant ids are unique across all files (and across each other, since `sources` is keyed by id),
 * every grant's connections exist, and constraint blocks match the kinds a grant reaches. A grant
 * reaching an rds-data connection without `sql` gets the schema's sql defaults (read-only), and
 * constraint blocks are resolved here, once (see PolicyGrant). A tool's `toolScopes` are set in one
 * file only. Pure:
 * expected problems are returned as issues, nothing is thrown.
 */
export function buildPolicy(documents: readonly PolicyDocument[], options: BuildPolicyOptions = {}): BuildPolicyResult {
  const issues: PolicyIssue[] = []
  const warnings: PolicyIssue[] = []
  const files: { source: string; file: PolicyFile }[] = []
  for (const { source, data } of documents) {
    const parsed = policyFileSchema.safeParse(data, { error: policyErrorMap })
    if (parsed.success) files.push({ source, file: parsed.data })
    else for (const issue of parsed.error.issues) issues.push({ source, path: formatIssuePath(issue.path), message: issue.message })
  }

  const connections = new Map<string, NamedConnection>()
  const grants: Grant[] = []
  const sources = new Map<string, string>()
  const defined = new Map<string, Located & { what: string }>()
  const grantLocations: Located[] = []

  const claim = (id: string, what: string, at: Located): boolean => {
    const earlier = defined.get(id)
    if (earlier !== undefined) {
      const where = earlier.source === at.source ? earlier.path : `${earlier.source} (${earlier.path})`
      issues.push({ ...at, message: `${what} id ${JSON.stringify(id)} is already used by a ${earlier.what} in ${where}` })
      return false
    }
    defined.set(id, { ...at, what })
    sources.set(id, at.source)
    return true
  }

  for (const { source, file } of files) {
    for (const [id, connection] of Object.entries(file.connections)) {
      if (claim(id, 'connection', { source, path: formatIssuePath(['connections', id]) })) {
        connections.set(id, deepFreeze({ ...connection, id }))
      }
    }
  }
  const toolScopes = new Map<string, readonly string[]>()
  for (const { source, file } of files) {
    for (const [tool, scopes] of Object.entries(file.toolScopes)) {
      const at = { source, path: formatIssuePath(['toolScopes', tool]) }
      const key = toolScopesKey(tool)
      const earlier = sources.get(key)
      if (earlier !== undefined) {
        issues.push({ ...at, message: `the scopes of tool ${tool} are already set in ${earlier}` })
        continue
      }
      sources.set(key, source)
      // All of them are required, so order and repeats mean nothing: kept sorted and once each.
      toolScopes.set(tool, Object.freeze([...new Set(scopes)].sort()))
    }
  }
  for (const { source, file } of files) {
    file.grants.forEach((grant, index) => {
      const at = { source, path: formatIssuePath(['grants', index]) }
      if (grant.id === APPROVER_GRANT_ID) {
        issues.push({ ...at, path: `${at.path}.id`, message: `grant id ${JSON.stringify(APPROVER_GRANT_ID)} is reserved for the built-in approver grant` })
        return
      }
      if (claim(grant.id, 'grant', { source, path: `${at.path}.id` })) {
        grants.push(grant)
        grantLocations.push(at)
      }
    })
  }

  const checked = grants.map((grant, i) => {
    const at = grantLocations[i] ?? { source: '', path: '' }
    return checkGrant(grant, at, connections, issues, warnings, options.nowMs)
  })

  if (issues.length > 0) return { ok: false, issues, warnings }
  // The approver grant is derived from the others, so the fingerprint of the files already covers it.
  const approvers = approverGrant(checked)
  const resolved = checked.map((g) => resolveGrant(g))
  const policy: Policy = Object.freeze({
    connections,
    grants: Object.freeze((approvers === undefined ? resolved : [...resolved, approvers]).map((g) => deepFreeze(g))),
    sources,
    toolScopes,
    fingerprint: policyFingerprint(connections, checked, toolScopes),
  })
  return { ok: true, policy, warnings }
}

function checkGrant(
  grant: Grant,
  at: Located,
  connections: ReadonlyMap<string, NamedConnection>,
  issues: PolicyIssue[],
  warnings: PolicyIssue[],
  nowMs: number | undefined,
): Grant {
  const kinds = new Set<ConnectionKind>()
  grant.connections.forEach((id, j) => {
    const connection = connections.get(id)
    if (connection === undefined) {
      issues.push({ source: at.source, path: `${at.path}.connections[${j}]`, message: `unknown connection ${JSON.stringify(id)}` })
    } else kinds.add(connection.kind)
  })

  for (const [block, kind] of BLOCKS) {
    const present = grant[block] !== undefined
    if (present && !kinds.has(kind)) {
      issues.push({
        source: at.source,
        path: `${at.path}.${block}`,
        message: `"${block}" limits apply only to ${kind} connections, and this grant reaches none`,
      })
    }
    if (!present && kinds.has(kind) && block !== 'sql') {
      warnings.push({
        source: at.source,
        path: at.path,
        message: `grant reaches a ${kind} connection but sets no "${block}" limits, so no ${block === 'ssm' ? 'command' : 'kubectl action'} is allowed there`,
      })
    }
  }

  warnReadOnlyWithoutReader(grant, at, connections, warnings)

  const notAfter = grantNotAfterMs(grant)
  if (notAfter !== undefined && !Number.isFinite(notAfter)) {
    issues.push({ source: at.source, path: `${at.path}.notAfter`, message: 'not a valid instant' })
  } else if (notAfter !== undefined && nowMs !== undefined && notAfter <= nowMs) {
    warnings.push({ source: at.source, path: `${at.path}.notAfter`, message: `grant expired at ${grant.notAfter ?? ''}; it allows nothing` })
  }

  const approval = grant.approval
  if (approval?.use === 'window' && approval.accessTtl > grant.ttl) {
    warnings.push({ source: at.source, path: `${at.path}.approval.accessTtl`, message: `longer than the grant's ttl; an approval lasts ${grant.ttl}s` })
  }

  if (grant.sql === undefined && kinds.has('rds-data')) return { ...grant, sql: DEFAULT_SQL_CONSTRAINTS }
  return grant
}

/**
 * A read-only grant on a Data API connection without `readOnlySecretArn` runs as the connection's
 * own database user: the guard, the read-only transaction and the closing rollback are then the
 * only layers, and none of them stops code the database runs implicitly (views calling functions,
 * row-level security policies) or MySQL DDL's implicit commit.
 */
function warnReadOnlyWithoutReader(grant: Grant, at: Located, connections: ReadonlyMap<string, NamedConnection>, warnings: PolicyIssue[]): void {
  if (grant.sql?.mode === 'read-write') return
  grant.connections.forEach((id, j) => {
    const connection = connections.get(id)
    if (connection?.kind !== 'rds-data' || connection.readOnlySecretArn !== undefined) return
    warnings.push({
      source: at.source,
      path: `${at.path}.connections[${j}]`,
      message: `grant is read-only on ${JSON.stringify(id)}, which has no "readOnlySecretArn": statements run as its read-write database user, so nothing in the database itself stops what the statement guard and the read-only transaction miss`,
    })
  })
}

// The policy is shared by every request; freezing it turns an accidental write into an error.
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
