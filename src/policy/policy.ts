import type { NamedConnection } from './connection-schema.js'
import type { Grant } from './policy-schema.js'
import type { ResolvedSsmConstraints } from './ssm-constraints.js'

/**
 * A grant as the gateway enforces it. Its constraint blocks are resolved once, when the policy is
 * built: defaults applied (every grant reaching an rds-data connection has `sql`), `ssm` templates
 * parsed. Tools use them as they are and never parse them again.
 */
export interface PolicyGrant extends Omit<Grant, 'ssm'> {
  readonly ssm?: ResolvedSsmConstraints
}

/** The merged, validated policy the gateway enforces; immutable once built. */
export interface Policy {
  readonly connections: ReadonlyMap<string, NamedConnection>
  /** In evaluation order: files in the order given, grants in file order. */
  readonly grants: readonly PolicyGrant[]
  /**
   * Which file each connection and grant came from (for messages and `policy explain`), by id; a
   * `toolScopes` entry is keyed `toolScopes.<tool>` (no id can spell that: ids are lowercase).
   */
  readonly sources: ReadonlyMap<string, string>
  /** OAuth scopes a token must all carry to call a tool, by tool name; a tool not in it needs none. */
  readonly toolScopes: ReadonlyMap<string, readonly string[]>
  /** sha256 (hex) of the merged, normalised policy (see policyFingerprint); recorded with every decision. */
  readonly fingerprint: string
}
