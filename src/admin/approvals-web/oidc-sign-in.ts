import { createHash, randomBytes } from 'node:crypto'
import { jwtVerify } from 'jose'
import { z } from 'zod'
import { discoveryUrl } from '../../auth/oidc-discovery.js'
import { fetchIdpDocument, type FetchLike } from '../../auth/fetch-idp-document.js'
import type { KeyResolver } from '../../auth/jwks-cache.js'
import type { Principal } from '../../auth/principal.js'
import { isSecureUrl } from '../../auth/secure-url.js'
import type { Clock } from '../../clock.js'
import { UpstreamError } from '../../errors.js'

/** The approvers' sign-in port: where to send the browser, and what a returned code proves. */
export interface SignInClient {
  authorizationUrl(params: { readonly state: string; readonly nonce: string; readonly codeChallenge: string }): Promise<string>
  /**
   * Redeems an authorization code. Rejects with UpstreamError OIDC_UNAVAILABLE / OIDC_INVALID, or
   * the verifier's AuthError when the access token is not one this gateway accepts.
   */
  redeem(params: { readonly code: string; readonly codeVerifier: string; readonly nonce: string; readonly iss: string | undefined }): Promise<Principal>
}

export interface OidcSignInOptions {
  readonly issuer: string
  readonly clientId: string
  /** A confidential client's secret (client_secret_basic); absent: a public client, PKCE only. */
  readonly clientSecret?: string
  readonly redirectUrl: string
  /** The gateway's audience: asked for as the `resource` (RFC 8707), so the access token is for this gateway. */
  readonly resource: string
  readonly scopes: readonly string[]
  /** The gateway's own bearer-token verification (issuer, audience, signature, profile, groups). */
  readonly verify: (authorization: string) => Promise<Principal>
  readonly keys: KeyResolver
  readonly algorithms: readonly string[]
  readonly clockToleranceSeconds: number
  readonly clock: Clock
  readonly allowInsecureLoopback: boolean
  readonly fetch?: FetchLike
}

const endpointsSchema = z.looseObject({ issuer: z.string(), authorization_endpoint: z.string(), token_endpoint: z.string() })
const tokenResponseSchema = z.looseObject({ access_token: z.string().min(1), id_token: z.string().min(1), token_type: z.string() })
const idClaimsSchema = z.looseObject({ sub: z.string().min(1), nonce: z.string() })

/** RFC 7636 S256 challenge of a verifier. */
export function codeChallengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url')
}

/** 32 random bytes, base64url: state, nonce, PKCE verifier, session ids and CSRF tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Authorization code + PKCE (RFC 7636) sign-in at the gateway's own issuer. The access token is
 * checked by the gateway's verifier, so the approver is exactly who the admin API would see; the
 * ID token proves the response belongs to this sign-in (`nonce`, `aud` = this client, same `sub`).
 */
export function createOidcSignIn(options: OidcSignInOptions): SignInClient {
  const fetchImpl = options.fetch ?? globalThis.fetch
  let endpoints: Promise<{ authorization: string; token: string }> | undefined

  async function discover(): Promise<{ authorization: string; token: string }> {
    const url = discoveryUrl(options.issuer, options.allowInsecureLoopback)
    const parsed = endpointsSchema.safeParse(await fetchIdpDocument(url, { fetch: fetchImpl, timeoutMs: 5_000 }))
    if (!parsed.success || parsed.data.issuer !== options.issuer) throw new UpstreamError('OIDC_INVALID', `discovery document at ${url} lacks the authorization code endpoints`)
    for (const endpoint of [parsed.data.authorization_endpoint, parsed.data.token_endpoint]) {
      const parsedUrl = URL.parse(endpoint)
      if (parsedUrl === null || !isSecureUrl(parsedUrl, options.allowInsecureLoopback)) throw new UpstreamError('OIDC_INVALID', `discovery document at ${url} names an insecure endpoint`)
    }
    return { authorization: parsed.data.authorization_endpoint, token: parsed.data.token_endpoint }
  }

  function cachedEndpoints(): Promise<{ authorization: string; token: string }> {
    // A failed discovery is not cached: the next sign-in tries again.
    endpoints ??= discover().catch((error: unknown) => {
      endpoints = undefined
      throw error
    })
    return endpoints
  }

  return {
    async authorizationUrl({ state, nonce, codeChallenge }) {
      const url = new URL((await cachedEndpoints()).authorization)
      const params = {
        response_type: 'code',
        client_id: options.clientId,
        redirect_uri: options.redirectUrl,
        scope: ['openid', ...options.scopes].join(' '),
        state,
        nonce,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        resource: options.resource,
      }
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
      return url.href
    },

    async redeem({ code, codeVerifier, nonce, iss }) {
      // RFC 9207: a response naming another issuer is a mix-up attack.
      if (iss !== undefined && iss !== options.issuer) throw new UpstreamError('OIDC_INVALID', 'authorization response names another issuer')
      const { token } = await cachedEndpoints()
      const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: options.redirectUrl, code_verifier: codeVerifier, resource: options.resource })
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
      if (options.clientSecret === undefined) body.set('client_id', options.clientId)
      else headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`
      let response: Response
      try {
        response = await fetchImpl(token, { method: 'POST', headers, body: body.toString(), redirect: 'manual', signal: AbortSignal.timeout(5_000) })
      } catch (cause) {
        throw new UpstreamError('OIDC_UNAVAILABLE', `POST ${token} failed`, { cause })
      }
      const json: unknown = await response.json().catch(() => undefined)
      const parsed = tokenResponseSchema.safeParse(json)
      if (response.status !== 200 || !parsed.success || parsed.data.token_type.toLowerCase() !== 'bearer') {
        const error = typeof (json as { error?: unknown } | undefined)?.error === 'string' ? (json as { error: string }).error : 'no error code'
        throw new UpstreamError('OIDC_INVALID', `token endpoint answered ${response.status} (${error})`)
      }
      const principal = await options.verify(`Bearer ${parsed.data.access_token}`)
      let claims: z.infer<typeof idClaimsSchema>
      try {
        const verified = await jwtVerify(parsed.data.id_token, options.keys, {
          issuer: options.issuer,
          audience: options.clientId,
          algorithms: [...options.algorithms],
          clockTolerance: options.clockToleranceSeconds,
          currentDate: new Date(options.clock.now()),
        })
        claims = idClaimsSchema.parse(verified.payload)
      } catch (cause) {
        throw new UpstreamError('OIDC_INVALID', 'ID token refused', { cause })
      }
      if (claims.nonce !== nonce) throw new UpstreamError('OIDC_INVALID', 'ID token nonce does not match this sign-in')
      if (claims.sub !== principal.subject) throw new UpstreamError('OIDC_INVALID', 'ID token and access token name different subjects')
      return principal
    },
  }
}
