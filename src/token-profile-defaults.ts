/**
 * Defaults of the access-token profile, shared by the config schema and the token verifier; they
 * live beside config so that config need not import from src/auth.
 */

/**
 * Accepted JOSE `typ` values when none are configured: RFC 9068's `at+jwt`, and `JWT` or no `typ`
 * at all, which is what Okta, Entra ID, Keycloak, Auth0 and Cognito put on their access tokens by
 * default. `null` stands for "no typ header". Every other type (`secevent+jwt`, `logout+jwt`,
 * `dpop+jwt`, …) is refused; that an ID token (also `JWT` or untyped) is not taken for an access
 * token rests on its `aud` (the client id, never this resource) and the audience check.
 */
export const DEFAULT_TOKEN_TYPES: readonly (string | null)[] = ['at+jwt', 'JWT', null]

/** Longest accepted `exp − iat` (or `exp − now` for a token without `iat`): 24 hours. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 86_400

/** A media type name, optionally with its `type/` part (RFC 6838 §4.2 restricted-name characters). */
export const TOKEN_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)?$/

/** One OAuth scope token (RFC 6749 §3.3): no space, `"` or `\`. */
export const SCOPE_TOKEN_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * The comparable form of a `typ` value: media type names are case-insensitive, and a value without
 * a `/` means `application/<value>` (RFC 7515 §4.1.9), so `application/AT+JWT` equals `at+jwt`.
 * A value with another top-level type (`text/at+jwt`) keeps it and so matches nothing configured
 * without one.
 */
export function normalizeTokenType(value: string): string {
  const lower = value.toLowerCase()
  const rest = lower.slice('application/'.length)
  return lower.startsWith('application/') && rest !== '' && !rest.includes('/') ? rest : lower
}
