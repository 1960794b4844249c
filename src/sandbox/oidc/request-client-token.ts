import { z } from 'zod'
import { UpstreamError } from '../../errors.js'

export interface ClientTokenRequest {
  readonly tokenEndpoint: string
  readonly clientId: string
  readonly clientSecret: string
  /** RFC 8707 resource indicator: the gateway's MCP endpoint, which becomes the token's `aud`. */
  readonly resource: string
  /** Lifetime to ask for (the dev IdP's `ttl` parameter); default: the IdP's. */
  readonly ttlSeconds?: number
  readonly fetch?: typeof fetch
}

const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().optional(),
})
const errorResponseSchema = z.looseObject({ error: z.string() })

/**
 * Performs an OAuth 2.0 client-credentials grant (RFC 6749 §4.4, client_secret_basic) with a
 * resource indicator (RFC 8707) and returns the access token.
 * Throws UpstreamError OIDC_UNAVAILABLE when the endpoint cannot be reached, OIDC_INVALID when
 * it refuses (publicDetail: the OAuth `error` code) or answers with something that is not a token.
 */
export async function requestClientToken(request: ClientTokenRequest): Promise<string> {
  const doFetch = request.fetch ?? fetch
  const basic = Buffer.from(`${encodeURIComponent(request.clientId)}:${encodeURIComponent(request.clientSecret)}`).toString('base64')
  let response: Response
  try {
    response = await doFetch(request.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        resource: request.resource,
        ...(request.ttlSeconds === undefined ? {} : { ttl: String(request.ttlSeconds) }),
      }).toString(),
      redirect: 'error',
    })
  } catch (error) {
    throw new UpstreamError('OIDC_UNAVAILABLE', `token endpoint ${request.tokenEndpoint} unreachable`, { cause: error })
  }
  let body: unknown
  try {
    body = await response.json()
  } catch (error) {
    throw new UpstreamError('OIDC_INVALID', `token endpoint answered ${response.status} without JSON`, { cause: error })
  }
  if (!response.ok) {
    const refused = errorResponseSchema.safeParse(body)
    const code = refused.success && /^[a-z_]{1,64}$/.test(refused.data.error) ? refused.data.error : 'error'
    throw new UpstreamError('OIDC_INVALID', `token endpoint refused the request: ${response.status} ${code}`, { publicDetail: code })
  }
  const token = tokenResponseSchema.safeParse(body)
  if (!token.success || token.data.token_type.toLowerCase() !== 'bearer') {
    throw new UpstreamError('OIDC_INVALID', 'token endpoint answered without a bearer access token')
  }
  return token.data.access_token
}
