/**
 * The JWS algorithms (RFC 7518 §3.1, RFC 8037, RFC 9864) a token may be signed with: asymmetric
 * only, so `none` and HS* (a shared secret the issuer would have to hand to every relying party)
 * are never expressible. The one list both the config schema and the token verifier use; it lives
 * beside config so that config need not import from src/auth.
 */
export const JWS_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
] as const

export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number]

const KNOWN: ReadonlySet<string> = new Set(JWS_ALGORITHMS)

/** Whether `alg` is one of JWS_ALGORITHMS. */
export function isJwsAlgorithm(alg: string): alg is JwsAlgorithm {
  return KNOWN.has(alg)
}
