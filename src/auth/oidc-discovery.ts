import { z } from 'zod'
import { UpstreamError } from '../errors.js'
import { fetchIdpDocument, type FetchLike } from './fetch-idp-document.js'
import { isSecureUrl, parseIssuerUrl } from './secure-url.js'

/** The parts of an OpenID Provider Metadata document that the relying party uses. */
export interface IssuerMetadata {
  readonly issuer: string
  readonly jwksUri: string
  /**
   * The algorithms the issuer says it signs with: `access_token_signing_alg_values_supported` where
   * it publishes one (not standard; a few servers do), else `id_token_signing_alg_values_supported`
   * (OpenID Connect Discovery 1.0 §3). Undefined when it declares neither.
   */
  readonly signingAlgorithms?: readonly string[]
}

export interface DiscoverIssuerOptions {
  /** The configured issuer identifier; the document must name exactly this string. */
  readonly issuer: string
  readonly fetch?: FetchLike
  readonly timeoutMs?: number
  /** Permit http issuer and `jwks_uri` on 127.0.0.1, localhost or [::1] (local development and tests). */
  readonly allowInsecureLoopback?: boolean
}

export const DEFAULT_DISCOVERY_TIMEOUT_MS = 5_000

// Loose: other systems' payloads carry many fields we do not use.
const algorithmListSchema = z.array(z.string()).min(1).optional().catch(undefined)
const metadataSchema = z.looseObject({
  issuer: z.string().min(1),
  jwks_uri: z.string().min(1),
  // A malformed list declares nothing: keys then fall back to their own `alg` or type default.
  access_token_signing_alg_values_supported: algorithmListSchema,
  id_token_signing_alg_values_supported: algorithmListSchema,
})

/**
 * The discovery URL for an issuer: `/.well-known/openid-configuration` appended to the issuer's
 * path, after removing one terminating slash (OpenID Connect Discovery 1.0 §4).
 * Throws `TypeError` for an issuer that is not a valid identifier.
 */
export function discoveryUrl(issuer: string, allowInsecureLoopback = false): string {
  const url = parseIssuerUrl(issuer, allowInsecureLoopback)
  const path = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname
  return `${url.origin}${path}/.well-known/openid-configuration`
}

/**
 * Fetches and checks the issuer's discovery document (OpenID Connect Discovery 1.0 §4):
 * `issuer` must equal the configured issuer exactly (§4.3) and `jwks_uri` must be https.
 * Throws `UpstreamError` `OIDC_UNAVAILABLE` or `OIDC_INVALID`; `TypeError` for a bad issuer.
 */
export async function discoverIssuer(options: DiscoverIssuerOptions): Promise<IssuerMetadata> {
  const allowInsecureLoopback = options.allowInsecureLoopback ?? false
  const url = discoveryUrl(options.issuer, allowInsecureLoopback)
  const body = await fetchIdpDocument(url, {
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
  })
  const parsed = metadataSchema.safeParse(body)
  if (!parsed.success) {
    throw new UpstreamError('OIDC_INVALID', `discovery document at ${url} lacks issuer or jwks_uri`, {
      cause: parsed.error,
    })
  }
  if (parsed.data.issuer !== options.issuer) {
    throw new UpstreamError(
      'OIDC_INVALID',
      `discovery document at ${url} names issuer ${JSON.stringify(parsed.data.issuer)}, expected ${JSON.stringify(options.issuer)}`,
    )
  }
  let jwksUrl: URL
  try {
    jwksUrl = new URL(parsed.data.jwks_uri)
  } catch (cause) {
    throw new UpstreamError('OIDC_INVALID', `discovery document at ${url} has an invalid jwks_uri`, { cause })
  }
  if (!isSecureUrl(jwksUrl, allowInsecureLoopback)) {
    throw new UpstreamError('OIDC_INVALID', `discovery document at ${url} has a jwks_uri that is not https`)
  }
  const signingAlgorithms = parsed.data.access_token_signing_alg_values_supported ?? parsed.data.id_token_signing_alg_values_supported
  return { issuer: parsed.data.issuer, jwksUri: jwksUrl.href, ...(signingAlgorithms === undefined ? {} : { signingAlgorithms }) }
}
