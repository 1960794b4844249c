import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair } from 'jose'
import { Provider, errors } from 'oidc-provider'
import { DEV_IDENTITIES, DEV_IDENTITY_NAMES, devClientSecret, isDevIdentity } from './dev-identities.js'
import type { DevIdentity } from './dev-identities.js'
import { requestClientToken } from './request-client-token.js'

export interface DevIdpOptions {
  readonly host?: '127.0.0.1'
  /** 0 (default) picks a free port. */
  readonly port?: number
  /** The gateway's resource URL (its MCP endpoint): the only audience tokens are issued for. */
  readonly audience: string
  /** Access token lifetime; default 600 s. */
  readonly accessTokenTtlSeconds?: number
}

export interface DevIdpClient {
  readonly id: DevIdentity
  readonly secret: string
}

export interface DevIdp {
  /** `http://127.0.0.1:<port>`; discovery at `/.well-known/openid-configuration`. */
  readonly issuer: string
  readonly tokenEndpoint: string
  readonly jwksUri: string
  readonly clients: readonly DevIdpClient[]
  /** A fresh JWT access token for the identity, obtained over HTTP with client credentials. */
  mintToken(user: DevIdentity): Promise<string>
  close(): Promise<void>
}

/**
 * Starts the sandbox's OpenID provider (oidc-provider) on loopback. Each demo identity is a
 * confidential client (client_id = identity) allowed the client-credentials grant; with a
 * resource indicator for `audience` it gets an RS256 JWT access token (`typ: at+jwt`) with
 * `sub` = the identity, `aud` = audience, `groups`, and `exp`. Other resources are refused
 * (invalid_target). The provider keeps its own time (it reads the system clock itself).
 */
export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const host = options.host ?? '127.0.0.1'
  if (host !== '127.0.0.1') throw new TypeError('the dev IdP binds loopback only')
  const { audience } = options
  const audienceHref = new URL(audience).href
  const ttl = options.accessTokenTtlSeconds ?? 600
  if (!Number.isInteger(ttl) || ttl < 1) throw new TypeError('accessTokenTtlSeconds must be a positive integer')

  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingJwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' }
  const clients: DevIdpClient[] = DEV_IDENTITY_NAMES.map((id) => ({ id, secret: devClientSecret(id) }))

  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('server has no TCP address')
  const issuer = `http://${host}:${(address satisfies AddressInfo).port}`

  const provider = new Provider(issuer, {
    clients: clients.map((client) => ({
      client_id: client.id,
      client_secret: client.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (URL.parse(resource)?.href !== audienceHref) throw new errors.InvalidTarget('unknown resource')
          return { scope: 'mcp', audience, accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
        },
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { accountId?: unknown; clientId?: unknown }) => {
      const who = typeof token.accountId === 'string' ? token.accountId : token.clientId
      return typeof who === 'string' && isDevIdentity(who) ? { groups: [...DEV_IDENTITIES[who].groups] } : undefined
    },
    ttl: { ClientCredentials: ttl, AccessToken: ttl },
  })
  // Koa logs unexpected errors to the console by default; the dev IdP reports them per request instead.
  provider.on('server_error', () => undefined)
  server.on('request', provider.callback())

  const tokenEndpoint = `${issuer}/token`
  return {
    issuer,
    tokenEndpoint,
    jwksUri: `${issuer}/jwks`,
    clients,
    mintToken: (user) => requestClientToken({ tokenEndpoint, clientId: user, clientSecret: devClientSecret(user), resource: audience }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)))
        server.closeAllConnections()
      }),
  }
}
