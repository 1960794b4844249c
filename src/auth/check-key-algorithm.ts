import type { JWK } from 'jose'
import { isJwsAlgorithm, type JwsAlgorithm } from '../jws-algorithms.js'

/** The key type (and curves) each algorithm is computed with (RFC 7518 §3.1, RFC 8037, RFC 9864). */
const KEY_SHAPE: Readonly<Record<JwsAlgorithm, { readonly kty: string; readonly crv?: readonly string[] }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: ['P-256'] },
  ES384: { kty: 'EC', crv: ['P-384'] },
  ES512: { kty: 'EC', crv: ['P-521'] },
  EdDSA: { kty: 'OKP', crv: ['Ed25519', 'Ed448'] },
  Ed25519: { kty: 'OKP', crv: ['Ed25519'] },
}

/** Whether `jwk` can compute `alg` at all (key type and curve). */
function fits(jwk: JWK, alg: JwsAlgorithm): boolean {
  const shape = KEY_SHAPE[alg]
  return jwk.kty === shape.kty && (shape.crv === undefined || (typeof jwk.crv === 'string' && shape.crv.includes(jwk.crv)))
}

/**
 * When neither the key nor the issuer says: RS256 for RSA keys (the OpenID Connect default), and
 * for EC and OKP keys the algorithms their curve determines.
 */
function undeclared(jwk: JWK): readonly JwsAlgorithm[] {
  if (jwk.kty === 'RSA') return ['RS256']
  return (['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const).filter((alg) => fits(jwk, alg))
}

/**
 * The algorithms an issuer's key may verify: its JWK `alg` where present (RFC 7517 §4.4), else
 * those of the issuer's declared algorithms the key can compute, else (nothing declared) the
 * default for its type.
 */
export function keyAlgorithms(jwk: JWK, declared: readonly string[] | undefined): readonly string[] {
  if (typeof jwk.alg === 'string') return [jwk.alg]
  if (declared === undefined || declared.length === 0) return undeclared(jwk)
  return declared.filter((alg) => isJwsAlgorithm(alg) && fits(jwk, alg))
}

/** jose's rules for a key a token may select, less the one on `alg` (createLocalJWKSet). */
function selectable(jwk: JWK, alg: JwsAlgorithm, kid: unknown): boolean {
  const ops = jwk.key_ops
  return (
    fits(jwk, alg) &&
    (kid === undefined || jwk.kid === kid) &&
    (jwk.use === undefined || jwk.use === 'sig') &&
    (ops === undefined || (Array.isArray(ops) && ops.includes('verify')))
  )
}

export type KeyAlgorithmCheck = 'ok' | 'no_key' | 'not_declared'

/**
 * Whether the issuer declares the token's `alg` for every key the token could select (by `kid`,
 * key type and curve), so the RSA key of an RS256 issuer never verifies a PS256 or RS512 token:
 * `no_key` when no key fits at all (an unknown key, for the caller's key lookup to report),
 * `not_declared` when a key fits but not under this `alg`.
 */
export function checkKeyAlgorithm(
  keys: readonly JWK[],
  header: { readonly alg?: unknown; readonly kid?: unknown },
  declared: readonly string[] | undefined,
): KeyAlgorithmCheck {
  const { alg, kid } = header
  if (typeof alg !== 'string' || !isJwsAlgorithm(alg)) return 'no_key'
  const candidates = keys.filter((jwk) => selectable(jwk, alg, kid))
  if (candidates.length === 0) return 'no_key'
  // The keys jose would choose among; each of them must be declared for this alg.
  const chosen = candidates.filter((jwk) => jwk.alg === undefined || jwk.alg === alg)
  if (chosen.length === 0) return 'not_declared'
  return chosen.every((jwk) => keyAlgorithms(jwk, declared).includes(alg)) ? 'ok' : 'not_declared'
}
