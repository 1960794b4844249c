import type { Policy } from './policy.js'

/** A call the token's scopes do not cover: every scope the tool needs, and those the token lacks. */
export interface ScopeShortfall {
  readonly required: readonly string[]
  readonly missing: readonly string[]
}

/**
 * Whether a token carrying `granted` may call `tool` as far as scopes go: undefined when the
 * policy's `toolScopes` asks nothing of it or the token has every scope it names, the shortfall
 * otherwise. Scopes compare exactly (RFC 6749 §3.3: case-sensitive). Only scopes: the grants still
 * decide the call.
 */
export function checkToolScopes(policy: Policy, tool: string, granted: readonly string[]): ScopeShortfall | undefined {
  const required = policy.toolScopes.get(tool)
  if (required === undefined) return undefined
  const missing = required.filter((scope) => !granted.includes(scope))
  return missing.length === 0 ? undefined : { required, missing }
}

/** Every scope some tool needs, sorted, once each (for the protected resource metadata). */
export function allToolScopes(policy: Policy): string[] {
  return [...new Set([...policy.toolScopes.values()].flat())].sort()
}
