import { UpstreamError } from '../errors.js'

/** The subset of WHATWG `fetch` this module needs; inject a fake-free real one in tests. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export interface FetchIdpDocumentOptions {
  readonly fetch: FetchLike
  readonly timeoutMs: number
  /** Bodies above this many bytes are refused; discovery and JWKS documents are small. */
  readonly maxBytes?: number
}

const DEFAULT_MAX_BYTES = 512 * 1024

/**
 * GETs a JSON document from the identity provider. Redirects are not followed.
 * Throws `UpstreamError` `OIDC_UNAVAILABLE` (network, timeout, non-200) or `OIDC_INVALID`
 * (too large, not JSON). Messages name the URL and status only.
 */
export async function fetchIdpDocument(url: string, options: FetchIdpDocumentOptions): Promise<unknown> {
  let response: Response
  try {
    response = await options.fetch(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    })
  } catch (cause) {
    throw new UpstreamError('OIDC_UNAVAILABLE', `GET ${url} failed`, { cause })
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined)
    throw new UpstreamError('OIDC_UNAVAILABLE', `GET ${url} returned HTTP ${response.status}`)
  }
  let text: string
  try {
    text = await response.text()
  } catch (cause) {
    throw new UpstreamError('OIDC_UNAVAILABLE', `GET ${url} body could not be read`, { cause })
  }
  if (Buffer.byteLength(text) > (options.maxBytes ?? DEFAULT_MAX_BYTES)) {
    throw new UpstreamError('OIDC_INVALID', `GET ${url} returned an oversized document`)
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new UpstreamError('OIDC_INVALID', `GET ${url} did not return JSON`, { cause })
  }
}
