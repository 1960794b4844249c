import type { Grant } from './policy-schema.js'
import type { PolicyGrant } from './policy.js'
import { resolveSsmConstraints } from './ssm-constraints.js'

/**
 * Resolves a validated grant's constraint blocks for enforcement (see {@link PolicyGrant}).
 * @throws ConfigError POLICY_INVALID when an `ssm` template does not parse (the schema rejects those first).
 */
export function resolveGrant(grant: Grant): PolicyGrant {
  const { ssm, ...rest } = grant
  return ssm === undefined ? rest : { ...rest, ssm: resolveSsmConstraints(ssm) }
}
