/** One problem found in a policy file: which file, where inside it, and what is wrong. */
export interface PolicyIssue {
  /** The file as the operator named it, e.g. `policies/prod.json`. */
  readonly source: string
  /** JSON path inside the file (`grants[3].sql.mode`, `connections.orders-db.region`); empty for the whole file. */
  readonly path: string
  readonly message: string
  /** 1-based position in the file's text, when known (JSON syntax errors). */
  readonly line?: number
  readonly column?: number
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$|^[0-9a-z][\w-]*$/

/** Renders a zod-style path (`['grants', 3, 'sql', 'mode']`) as `grants[3].sql.mode`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else {
      const key = String(segment)
      out += PLAIN_KEY.test(key) ? (out === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`
    }
  }
  return out
}

/** One line for people: `policies/prod.json: grants[3].sql.mode: expected "read-only" | "read-write"`. */
export function formatPolicyIssue(issue: PolicyIssue): string {
  const where = issue.line === undefined ? issue.source : `${issue.source}:${issue.line}:${issue.column ?? 1}`
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`
}
