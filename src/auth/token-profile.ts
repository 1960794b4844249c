import { AuthError, type AuthFailure } from '../errors.js'
import {
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  DEFAULT_TOKEN_TYPES,
  normalizeTokenType,
  SCOPE_TOKEN_PATTERN,
  TOKEN_TYPE_PATTERN,
} from '../token-profile-defaults.js'

export type ClaimValue = string | number | boolean

/** What a token must look like beyond a valid signature, issuer, audience and time window. */
export interface TokenProfileOptions {
  /** Accepted JOSE `typ` values; `null` accepts a token without `typ`. Default DEFAULT_TOKEN_TYPES. */
  readonly tokenTypes?: readonly (string | null)[]
  /** Longest accepted `exp − iat` (`exp − now` without `iat`). Default 24 h. */
  readonly maxTokenLifetimeSeconds?: number
  /** When not empty: `client_id` and `azp`, whichever the token carries (one at least), must be one of these. */
  readonly allowedClients?: readonly string[]
  /** Scopes the token must all carry (`scope`/`scp`); a shortfall is 403 `insufficient_scope`. */
  readonly requiredScopes?: readonly string[]
  /** Claim name → the one accepted value, or a list of accepted values. */
  readonly requiredClaims?: Readonly<Record<string, ClaimValue | readonly ClaimValue[]>>
}

export interface TokenTimes {
  readonly exp: number
  readonly iat: number | undefined
  /** Epoch seconds. */
  readonly now: number
  readonly toleranceSeconds: number
}

export interface TokenProfile {
  /** The refusal for a protected header whose `typ` is not accepted (RFC 9068 §4 step 1). */
  readonly checkType: (header: Readonly<Record<string, unknown>>) => AuthError | undefined
  /** The refusal for a verified claims set that is too long-lived, from another client or lacks a pinned claim. */
  readonly checkClaims: (claims: Readonly<Record<string, unknown>>, times: TokenTimes) => AuthError | undefined
  /** The 403 refusal, naming every required scope, for a token without all of them. */
  readonly checkScopes: (granted: readonly string[] | undefined) => AuthError | undefined
}

function invalid(failure: AuthFailure, detail: string): AuthError {
  return new AuthError('AUTH_INVALID', failure, `bearer token refused (${failure}): ${detail}`)
}

function isClaimValue(value: unknown): value is ClaimValue {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
}

function acceptedValues(name: string, expected: unknown): readonly ClaimValue[] {
  const values: readonly unknown[] = Array.isArray(expected) ? expected : [expected]
  if (values.length === 0 || !values.every(isClaimValue)) {
    throw new TypeError(`requiredClaims.${name} must be a string, number or boolean, or a non-empty list of them`)
  }
  return values
}

function checkOptions(options: TokenProfileOptions): void {
  const types = options.tokenTypes ?? DEFAULT_TOKEN_TYPES
  if (types.length === 0) throw new TypeError('tokenTypes must not be empty')
  for (const type of types) {
    if (type !== null && !(typeof type === 'string' && TOKEN_TYPE_PATTERN.test(type))) {
      throw new TypeError(`tokenTypes: ${JSON.stringify(type)} is not a media type name`)
    }
  }
  const lifetime = options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS
  if (!(typeof lifetime === 'number' && Number.isFinite(lifetime) && lifetime > 0)) throw new TypeError('maxTokenLifetimeSeconds must be > 0')
  for (const client of options.allowedClients ?? []) {
    if (typeof client !== 'string' || client === '') throw new TypeError('allowedClients must be non-empty strings')
  }
  for (const scope of options.requiredScopes ?? []) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN_PATTERN.test(scope)) throw new TypeError(`requiredScopes: ${JSON.stringify(scope)} is not a scope token`)
  }
}

/**
 * The access-token profile a resource server pins on top of signature and standard claims (RFC 9068
 * §4, RFC 6750 §3.1): accepted `typ` values, a maximum lifetime, the clients (`client_id`/`azp`)
 * it serves, required scopes and pinned claim values. Each check returns the `AuthError` to throw:
 * `AUTH_INVALID` (401 `invalid_token`) with `wrong_token_type`, `lifetime_too_long`,
 * `client_not_allowed`, `claim_mismatch` or `invalid_claims`, or `AUTH_FORBIDDEN`
 * `insufficient_scope` (403) carrying the scopes to ask for. Throws `TypeError` for bad options.
 */
export function createTokenProfile(options: TokenProfileOptions = {}): TokenProfile {
  checkOptions(options)
  const types = options.tokenTypes ?? DEFAULT_TOKEN_TYPES
  const untypedAccepted = types.includes(null)
  const accepted = new Set(types.flatMap((type) => (type === null ? [] : [normalizeTokenType(type)])))
  const maxLifetime = options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS
  const clients = new Set(options.allowedClients ?? [])
  const requiredScopes = [...new Set(options.requiredScopes ?? [])]
  const requiredClaims = Object.entries(options.requiredClaims ?? {}).map(([name, expected]) => [name, acceptedValues(name, expected)] as const)

  function checkType(header: Readonly<Record<string, unknown>>): AuthError | undefined {
    if (!Object.hasOwn(header, 'typ')) return untypedAccepted ? undefined : invalid('wrong_token_type', 'protected header has no typ')
    const { typ } = header
    if (typeof typ === 'string' && accepted.has(normalizeTokenType(typ))) return undefined
    return invalid('wrong_token_type', 'protected header typ is not an accepted token type')
  }

  function checkClient(claims: Readonly<Record<string, unknown>>): AuthError | undefined {
    if (clients.size === 0) return undefined
    const named = (['client_id', 'azp'] as const).filter((claim) => Object.hasOwn(claims, claim))
    if (named.length === 0) return invalid('client_not_allowed', 'token names no client (client_id or azp)')
    for (const claim of named) {
      const value = claims[claim]
      if (typeof value !== 'string') return invalid('invalid_claims', `${claim} claim is not a string`)
      if (!clients.has(value)) return invalid('client_not_allowed', `${claim} claim is not an allowed client`)
    }
    return undefined
  }

  function checkClaims(claims: Readonly<Record<string, unknown>>, times: TokenTimes): AuthError | undefined {
    // Without iat, the remaining lifetime is all that can be bounded (with the clock tolerance).
    const lifetime = times.iat === undefined ? times.exp - times.now - times.toleranceSeconds : times.exp - times.iat
    if (lifetime > maxLifetime) {
      return invalid('lifetime_too_long', `token lifetime ${times.iat === undefined ? '(exp - now)' : '(exp - iat)'} exceeds ${maxLifetime} s`)
    }
    const client = checkClient(claims)
    if (client !== undefined) return client
    for (const [name, values] of requiredClaims) {
      // Names come from the config; values are the token's and stay out of the message.
      if (!Object.hasOwn(claims, name)) return invalid('claim_mismatch', `required claim ${JSON.stringify(name)} is absent`)
      const value = claims[name]
      if (!values.some((accepted) => accepted === value)) return invalid('claim_mismatch', `required claim ${JSON.stringify(name)} has a value that is not accepted`)
    }
    return undefined
  }

  function checkScopes(granted: readonly string[] | undefined): AuthError | undefined {
    const held = new Set(granted ?? [])
    const missing = requiredScopes.filter((scope) => !held.has(scope))
    if (missing.length === 0) return undefined
    return new AuthError('AUTH_FORBIDDEN', 'insufficient_scope', `bearer token refused (insufficient_scope): lacks required scopes ${missing.join(' ')}`, {
      scope: requiredScopes.join(' '),
    })
  }

  return { checkType, checkClaims, checkScopes }
}
