import type { JWK } from 'jose'
import { errors } from 'oidc-provider'
import { CLIENT_TOKEN_TTL_SECONDS } from './client-token-ttl.js'
import { DEV_IDENTITIES, DEV_IDENTITY_NAMES, devClientSecret, isDevIdentity } from './dev-identities.js'
import { refusalPage } from './refusal-page.js'

export interface DevIdpConfigurationOptions {
  readonly audience: string
  readonly accessTokenTtlSeconds: number
  readonly signingJwk: JWK
  readonly cookieKey: string
  /** Scopes of the gateway (the resource); the first is what a request naming none of them gets. */
  readonly resourceScopes: readonly [string, ...string[]]
}

/** The resource server scope; tokens for the gateway carry it when a client asks for no other. */
export const DEV_IDP_SCOPE = 'mcp'

/** OpenID scopes clients send besides the resource's; others are refused (invalid_scope). */
export const DEV_IDP_OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'] as const

interface ResourceContext {
  readonly oidc?: { readonly params?: { readonly grant_type?: unknown; readonly scope?: unknown }; readonly body?: { readonly ttl?: unknown } }
}
interface ErrorContext {
  type: string
  body: unknown
}

/** The `ttl` a client-credentials request asked for; undefined when absent. Throws invalid_request when out of bounds. */
function requestedTtl(ctx: ResourceContext): number | undefined {
  const raw = ctx.oidc?.body?.ttl
  if (raw === undefined) return undefined
  const seconds = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN
  if (!(seconds >= CLIENT_TOKEN_TTL_SECONDS.min && seconds <= CLIENT_TOKEN_TTL_SECONDS.max)) {
    throw new errors.InvalidRequest(`ttl must be whole seconds from ${CLIENT_TOKEN_TTL_SECONDS.min} to ${CLIENT_TOKEN_TTL_SECONDS.max}`)
  }
  return seconds
}
interface ClientLike {
  readonly clientId?: unknown
}
interface TokenLike {
  readonly accountId?: unknown
  readonly clientId?: unknown
}

/**
 * oidc-provider configuration for the sandbox: the demo identities as confidential
 * client-credentials clients, open dynamic registration for interactive tools (authorization
 * code + PKCE, login at /interaction/:uid; refresh tokens for `offline_access`), JWT access tokens
 * only for `audience`, and `iss` in every authorization response (RFC 9207, oidc-provider's own).
 */
export function createDevIdpConfiguration(options: DevIdpConfigurationOptions): Record<string, unknown> {
  const { audience, accessTokenTtlSeconds: ttl } = options
  const audienceHref = new URL(audience).href
  const known = new Set<string>([...DEV_IDP_OIDC_SCOPES, ...options.resourceScopes])
  return {
    clients: DEV_IDENTITY_NAMES.map((id) => ({
      client_id: id,
      client_secret: devClientSecret(id),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [options.signingJwk] },
    cookies: { keys: [options.cookieKey] },
    // The gateway's scopes are listed too: clients register with the scope they will ask for.
    scopes: [...known],
    discovery: { client_id_metadata_document_supported: true },
    renderError: (ctx: ErrorContext, out: Record<string, unknown>) => {
      ctx.type = 'html'
      const error = typeof out.error === 'string' ? out.error : 'server_error'
      ctx.body = refusalPage(error, typeof out.error_description === 'string' ? out.error_description : 'the request was refused')
    },
    findAccount: (_ctx: unknown, sub: string) =>
      isDevIdentity(sub) ? { accountId: sub, claims: () => ({ sub, groups: [...DEV_IDENTITIES[sub].groups] }) } : undefined,
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx: ResourceContext, resource: string, client: ClientLike) => {
          if (URL.parse(resource)?.href !== audienceHref) throw new errors.InvalidTarget(`this identity provider issues tokens for ${audience} only`)
          const asked = typeof ctx.oidc?.params?.scope === 'string' ? ctx.oidc.params.scope.split(' ') : []
          const unknown = asked.filter((scope) => scope !== '' && !known.has(scope))
          if (unknown.length > 0) throw new errors.InvalidScope(`unknown scope ${unknown.join(' ')}; this identity provider knows ${[...known].join(' ')}`, unknown.join(' '))
          // A dynamically registered client acts for a person who signed in, never as itself.
          const asItself = ctx.oidc?.params?.grant_type === 'client_credentials'
          if (asItself && !(typeof client.clientId === 'string' && isDevIdentity(client.clientId))) {
            throw new errors.InvalidTarget('client credentials are for the demo identities only')
          }
          const accessTokenTTL = (asItself ? requestedTtl(ctx) : undefined) ?? ttl
          return { scope: options.resourceScopes.join(' '), audience, accessTokenTTL, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
        },
      },
    },
    extraTokenClaims: (_ctx: unknown, token: TokenLike) => {
      const who = typeof token.accountId === 'string' ? token.accountId : token.clientId
      return typeof who === 'string' && isDevIdentity(who) ? { groups: [...DEV_IDENTITIES[who].groups] } : undefined
    },
    // A client-credentials token lives as long as its request asked (within bounds; see requestedTtl);
    // a sign-in page is left open 10 minutes; a session, grant and refresh token last a working day.
    ttl: {
      ClientCredentials: (_ctx: unknown, token: { readonly resourceServer?: { readonly accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? ttl,
      AccessToken: ttl,
      Interaction: 600,
      Session: 28_800,
      Grant: 28_800,
      RefreshToken: 28_800,
    },
  }
}
