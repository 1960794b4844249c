import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { exportJWK, generateKeyPair } from 'jose'
import { Provider } from 'oidc-provider'
import { listenOn } from '../emulator-http.js'
import { createClientMetadataDocuments, type ClientMetadataDocumentOptions } from './client-metadata-document.js'
import { withDefaultResourceScope } from './default-resource-scope.js'
import { createDevIdpConfiguration, DEV_IDP_SCOPE } from './dev-idp-configuration.js'
import { DEV_IDENTITY_NAMES, devClientSecret } from './dev-identities.js'
import type { DevIdentity } from './dev-identities.js'
import { createDevLoginHandler } from './dev-login.js'
import { requestClientToken } from './request-client-token.js'

export interface DevIdpOptions {
  readonly host?: '127.0.0.1'
  /** 0 (default) picks a free port. */
  readonly port?: number
  /** The gateway's resource URL (its MCP endpoint): the only audience tokens are issued for. */
  readonly audience: string
  /** Access token lifetime; default 600 s. */
  readonly accessTokenTtlSeconds?: number
  /** The gateway's scopes (e.g. its policy's tool scopes) on top of `mcp`, the one every request gets. */
  readonly scopes?: readonly string[]
  /** How Client ID Metadata Documents are fetched: fetch, size and time limits. */
  readonly clientMetadataDocuments?: ClientMetadataDocumentOptions
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
 * (invalid_target). Interactive clients (e.g. MCP Inspector) register dynamically (`/reg`, native
 * clients with loopback redirects on any port) or name a Client ID Metadata Document URL as their
 * `client_id`, and use authorization code + PKCE, signing in as a demo identity on a password-less
 * page; a request without the gateway's scope gets it (see withDefaultResourceScope).
 * The provider keeps its own time (it reads the system clock itself).
 */
export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const host = options.host ?? '127.0.0.1'
  if (host !== '127.0.0.1') throw new TypeError('the dev IdP binds loopback only')
  const { audience } = options
  if (!URL.canParse(audience)) throw new TypeError('audience must be an absolute URL')
  const ttl = options.accessTokenTtlSeconds ?? 600
  if (!Number.isInteger(ttl) || ttl < 1) throw new TypeError('accessTokenTtlSeconds must be a positive integer')

  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingJwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' }
  const resourceScopes: [string, ...string[]] = [DEV_IDP_SCOPE, ...new Set((options.scopes ?? []).filter((s) => s !== DEV_IDP_SCOPE))]
  const clients: DevIdpClient[] = DEV_IDENTITY_NAMES.map((id) => ({ id, secret: devClientSecret(id) }))

  const server = createServer()
  const issuer = `http://${host}:${await listenOn(server, host, options.port ?? 0)}`

  let provider: Provider
  try {
    const cookieKey = randomBytes(32).toString('base64url')
    provider = new Provider(issuer, createDevIdpConfiguration({ audience, accessTokenTtlSeconds: ttl, signingJwk, cookieKey, resourceScopes }))
  } catch (error) {
    server.close()
    throw error
  }
  // Koa logs unexpected errors to the console by default; the dev IdP reports them per request instead.
  provider.on('server_error', () => undefined)
  const callback = provider.callback()
  const devLogin = createDevLoginHandler(provider)
  const metadataDocuments = createClientMetadataDocuments(provider, options.clientMetadataDocuments)
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (allowRegistrationFromLoopback(req, res)) return
    if (req.method === 'GET') req.url = withDefaultResourceScope(req.url ?? '/', resourceScopes) ?? req.url
    const handle = async () => (await metadataDocuments(req, res)) || (await devLogin(req, res))
    handle().then(
      (handled) => {
        if (!handled) callback(req, res)
      },
      () => {
        res.statusCode = 500
        res.end()
      },
    )
  })

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

const LOOPBACK_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/

/**
 * oidc-provider sends no CORS headers on dynamic registration; browser-based dev tools on
 * loopback need them. Answers the preflight itself (returns true) and decorates the POST.
 */
function allowRegistrationFromLoopback(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin
  if (new URL(req.url ?? '/', 'http://dev-idp').pathname !== '/reg' || origin === undefined || !LOOPBACK_ORIGIN.test(origin)) return false
  res.setHeader('access-control-allow-origin', origin)
  res.setHeader('vary', 'origin')
  if (req.method !== 'OPTIONS') return false
  res.statusCode = 204
  res.setHeader('access-control-allow-methods', 'POST')
  res.setHeader('access-control-allow-headers', 'content-type, authorization')
  res.setHeader('access-control-max-age', '600')
  res.end()
  return true
}
