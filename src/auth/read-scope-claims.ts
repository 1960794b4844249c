import { z } from 'zod'

// RFC 9068 §2.2.3 and RFC 8693 §4.2 say `scope` is one space-separated string; some issuers send
// an array there or in `scp` (Okta, Entra ID, Ory), so both shapes are read in both claims.
const scopeClaimSchema = z.union([z.string(), z.array(z.string())]).optional()
const scopeClaimsSchema = z.looseObject({ scope: scopeClaimSchema, scp: scopeClaimSchema })

// A string is split on spaces only (RFC 6749 §3.3); an array item is one scope as it is, so an odd
// item ("a b", "a\tb") never matches a scope a tool needs rather than granting two.
function scopeList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return []
  return typeof value === 'string' ? value.split(' ').filter((w) => w !== '') : value
}

export type ScopeClaims =
  | { readonly ok: true; readonly scopes: readonly string[] | undefined }
  | { readonly ok: false; readonly claim: 'scope' | 'scp' }

/**
 * The scopes a token grants, from `scope` and `scp` (either a space-separated string or an array of
 * strings; both claims together give their union): `scopes` is undefined when the token carries
 * neither claim. A claim of another type is `ok: false` naming it (the caller refuses the token).
 */
export function readScopeClaims(claims: Readonly<Record<string, unknown>>): ScopeClaims {
  const parsed = scopeClaimsSchema.safeParse(claims)
  if (!parsed.success) {
    const claim = parsed.error.issues[0]?.path[0] === 'scp' ? 'scp' : 'scope'
    return { ok: false, claim }
  }
  const { scope, scp } = parsed.data
  if (scope === undefined && scp === undefined) return { ok: true, scopes: undefined }
  return { ok: true, scopes: [...new Set([...scopeList(scope), ...scopeList(scp)])] }
}
