import { exportSPKI, generateKeyPair, importJWK, SignJWT, base64url } from 'jose'
import { z } from 'zod'
import type { Clock } from '../clock.js'
import { tryFetchJson } from './try-fetch-json.js'

/** An issuer signing key as its JWKS describes it (no key material). */
export interface IssuerKeyInfo {
  readonly kty: 'RSA' | 'EC'
  readonly kid: string | undefined
  /** The JWK `alg`, when the issuer states it. */
  readonly alg: string | undefined
  readonly crv: string | undefined
}

export interface ProbeTokens {
  readonly algNone: string
  readonly hs256WithPublicKey: string
  readonly unknownKey: string
  /** Whether the issuer's real public key was used for the HS256 confusion token. */
  readonly publicKeyFound: boolean
  /** The plausible claims every forged token carries. */
  readonly claims: Readonly<Record<string, unknown>>
  /** The issuer's RSA and EC signing keys, in JWKS order; empty when its JWKS cannot be fetched. */
  readonly issuerKeys: readonly IssuerKeyInfo[]
  /** The algorithms its metadata declares (access-token list, else ID-token list), if any. */
  readonly declaredAlgorithms: readonly string[] | undefined
}

const algorithmList = z.array(z.string()).min(1).optional().catch(undefined)
const discoverySchema = z.looseObject({
  jwks_uri: z.string(),
  access_token_signing_alg_values_supported: algorithmList,
  id_token_signing_alg_values_supported: algorithmList,
})
const publicKeySchema = z.union([
  z.object({ kty: z.literal('RSA'), n: z.string(), e: z.string(), kid: z.string().optional(), alg: z.string().optional(), use: z.string().optional() }),
  z.object({ kty: z.literal('EC'), crv: z.string(), x: z.string(), y: z.string(), kid: z.string().optional(), alg: z.string().optional(), use: z.string().optional() }),
])
const jwksSchema = z.looseObject({ keys: z.array(z.unknown()) })

/**
 * Tokens a correct resource server must refuse, with plausible claims (the issuer from the
 * metadata, the MCP URL as audience, a future expiry) so only the signature is wrong.
 */
export async function forgeProbeTokens(input: {
  readonly mcpUrl: string
  readonly authorizationServer: string | undefined
  readonly clock: Clock
  readonly fetch: typeof fetch
  readonly timeoutMs: number
}): Promise<ProbeTokens> {
  const now = Math.floor(input.clock.now() / 1000)
  const iss = input.authorizationServer ?? new URL(input.mcpUrl).origin
  const claims = { iss, aud: input.mcpUrl, sub: 'airlock-verify-probe', iat: now, exp: now + 300, scope: 'openid' }
  const algNone = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(JSON.stringify(claims))}.`

  const attacker = await generateKeyPair('RS256', { extractable: true })
  const unknownKey = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'airlock-verify-unknown-key' }).sign(attacker.privateKey)

  // Algorithm confusion: the issuer's RSA/EC public key (PEM) used as an HMAC secret.
  let pem = await exportSPKI(attacker.publicKey)
  let kid = 'airlock-verify-unknown-key'
  let publicKeyFound = false
  const { jwks, declaredAlgorithms } = await issuerJwks(input)
  const signingKeys = (jwks?.keys ?? []).flatMap((k) => {
    const parsed = publicKeySchema.safeParse(k)
    return parsed.success && (parsed.data.use === undefined || parsed.data.use === 'sig') ? [parsed.data] : []
  })
  const issuerKeys = signingKeys.map((k) => ({ kty: k.kty, kid: k.kid, alg: k.alg, crv: k.kty === 'EC' ? k.crv : undefined }))
  const key = signingKeys[0]
  if (key !== undefined) {
    try {
      const jwk = key.kty === 'RSA' ? { kty: key.kty, n: key.n, e: key.e } : { kty: key.kty, crv: key.crv, x: key.x, y: key.y }
      const alg = key.kty === 'RSA' ? 'RS256' : key.crv === 'P-384' ? 'ES384' : key.crv === 'P-521' ? 'ES512' : 'ES256'
      const imported = await importJWK({ ...jwk, ext: true }, alg, { extractable: true })
      if (typeof imported !== 'object' || !('type' in imported) || imported.type !== 'public') throw new TypeError('not a public key')
      pem = await exportSPKI(imported)
      kid = key.kid ?? kid
      publicKeyFound = true
    } catch {
      publicKeyFound = false
    }
  }
  const hs256WithPublicKey = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(pem))
  return { algNone, hs256WithPublicKey, unknownKey, publicKeyFound, claims, issuerKeys, declaredAlgorithms }
}

async function issuerJwks(input: { readonly authorizationServer: string | undefined; readonly fetch: typeof fetch; readonly timeoutMs: number }) {
  if (input.authorizationServer === undefined) return { jwks: undefined, declaredAlgorithms: undefined }
  const base = input.authorizationServer.replace(/\/$/, '')
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const discovery = discoverySchema.safeParse(await tryFetchJson(input.fetch, base + path, input.timeoutMs))
    if (!discovery.success) continue
    const jwks = jwksSchema.safeParse(await tryFetchJson(input.fetch, discovery.data.jwks_uri, input.timeoutMs))
    const declaredAlgorithms = discovery.data.access_token_signing_alg_values_supported ?? discovery.data.id_token_signing_alg_values_supported
    if (jwks.success) return { jwks: jwks.data, declaredAlgorithms }
  }
  return { jwks: undefined, declaredAlgorithms: undefined }
}
