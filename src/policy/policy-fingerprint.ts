import { createHash } from 'node:crypto'
import { canonicalJson } from '../canonical-json.js'
import type { NamedConnection } from './connection-schema.js'
import type { Grant } from './policy-schema.js'

/**
 * The sha256 (hex) of a merged policy in canonical form: connections by id (their order and file
 * do not matter), grants in evaluation order (it decides which grant wins), every object's keys
 * sorted (tool scopes by tool name), values as validated (defaults filled in, durations in seconds). So whitespace, key order,
 * which file holds what and spelling a default out leave it unchanged; any change to what is
 * enforced changes it. Descriptions count: they are shown to agents.
 */
export function policyFingerprint(
  connections: ReadonlyMap<string, NamedConnection>,
  grants: readonly Grant[],
  toolScopes: ReadonlyMap<string, readonly string[]>,
): string {
  const byId = [...connections.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  // Left out when empty, so policies without tool scopes keep the fingerprint they always had.
  const scopes = toolScopes.size === 0 ? {} : { toolScopes: Object.fromEntries(toolScopes) }
  const canonical = canonicalJson({ connections: Object.fromEntries(byId), grants, ...scopes })
  return createHash('sha256').update(canonical, 'utf8').digest('hex')
}
