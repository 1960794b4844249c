import { MAX_TTL_SECONDS } from './policy-schema.js'
import type { PolicyGrant } from './policy.js'

/**
 * The id under which a tool open to every authenticated caller (whoami) is allowed when no grant
 * of the caller's lists it. A policy cannot spell it (grant ids start with a lowercase letter or
 * digit), so it never shadows or is shadowed by a written grant.
 */
export const EVERYONE_GRANT_ID = '@everyone'

/**
 * The built-in grant behind {@link EVERYONE_GRANT_ID}: no connections, no access period of its own
 * (the call admission starts none for it), the policy's widest ttl for completeness.
 */
export const EVERYONE_GRANT: PolicyGrant = Object.freeze({
  id: EVERYONE_GRANT_ID,
  description: 'Built in: any authenticated caller may learn who they are and that they hold no grants.',
  groups: [],
  subjects: [],
  connections: [],
  tools: [],
  ttl: MAX_TTL_SECONDS,
})
