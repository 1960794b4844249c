import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Provider } from 'oidc-provider'
import { z } from 'zod'
import { sendRefusal } from './refusal-page.js'

export interface ClientMetadataDocumentOptions {
  readonly fetch?: typeof fetch
  /** Largest document accepted; default 5 KiB (the draft's recommendation). */
  readonly maxBytes?: number
  /** Longest wait for the document; default 3 s. */
  readonly timeoutMs?: number
  /** How long a fetched client is remembered; default 600 s. */
  readonly ttlSeconds?: number
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/**
 * Whether a `client_id` names a Client ID Metadata Document: an https URL with a path, or (for
 * tools on this machine) an http URL on a loopback host; never with credentials or a fragment.
 */
export function isMetadataDocumentUrl(clientId: string): boolean {
  const url = URL.parse(clientId)
  if (url === null || url.username !== '' || url.password !== '' || url.hash !== '' || clientId.includes('#')) return false
  if (url.protocol === 'https:') return url.pathname !== '/'
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)
}

// Loose: another party's document; only what a public client needs is read, and what it must not
// say (a shared secret) is refused.
const documentSchema = z.looseObject({
  client_id: z.string(),
  redirect_uris: z.array(z.string().min(1).max(2048)).min(1).max(20),
  client_name: z.string().max(200).optional(),
  token_endpoint_auth_method: z.literal('none', { error: 'token_endpoint_auth_method must be "none" (a public client)' }).optional(),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'], { error: 'grant_types may hold authorization_code and refresh_token only' })).min(1).optional(),
  response_types: z.array(z.literal('code', { error: 'response_types may hold code only' })).min(1).optional(),
  application_type: z.enum(['web', 'native']).optional(),
})

class DocumentRefused extends Error {}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0')
  if (declared > maxBytes) throw new DocumentRefused(`it is larger than ${maxBytes} bytes`)
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body ?? []) {
    total += chunk.byteLength
    if (total > maxBytes) throw new DocumentRefused(`it is larger than ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Native when every redirect is a loopback http URL or an app's own scheme (RFC 8252), web otherwise. */
function applicationType(redirects: readonly string[]): 'web' | 'native' {
  const native = redirects.every((uri) => {
    const url = URL.parse(uri)
    return url !== null && ((url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) || !['http:', 'https:'].includes(url.protocol))
  })
  return native ? 'native' : 'web'
}

async function fetchDocument(clientId: string, options: Required<ClientMetadataDocumentOptions>): Promise<Record<string, unknown>> {
  let response: Response
  try {
    response = await options.fetch(clientId, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) })
  } catch {
    throw new DocumentRefused('it could not be fetched (unreachable, redirected or too slow)')
  }
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new DocumentRefused(`fetching it answered HTTP ${response.status}`)
  }
  let body: unknown
  try {
    body = JSON.parse(await readLimited(response, options.maxBytes))
  } catch (error) {
    throw error instanceof DocumentRefused ? error : new DocumentRefused('it is not JSON')
  }
  const parsed = documentSchema.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new DocumentRefused(`${issue?.path.join('.') || 'document'}: ${issue?.message ?? 'invalid'}`)
  }
  const doc = parsed.data
  if (doc.client_id !== clientId) throw new DocumentRefused(`its client_id ${JSON.stringify(doc.client_id.slice(0, 200))} is not the URL it was fetched from`)
  if ('client_secret' in doc || 'client_secret_expires_at' in doc) throw new DocumentRefused('it must not hold a client secret')
  return {
    client_id: clientId,
    ...(doc.client_name === undefined ? {} : { client_name: doc.client_name }),
    redirect_uris: doc.redirect_uris,
    grant_types: doc.grant_types ?? ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: doc.application_type ?? applicationType(doc.redirect_uris),
  }
}

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document) for the dev IdP: an
 * authorization request whose `client_id` is such a URL has the document fetched (bounded in size
 * and time, no redirects), checked (its `client_id` is that URL, a public client, no secret) and
 * turned into a client for a while. A document it cannot use is refused on a page naming
 * `invalid_client` and why (returns true, having answered); other requests are left alone.
 */
export function createClientMetadataDocuments(provider: Provider, options: ClientMetadataDocumentOptions = {}): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const settings = { fetch: options.fetch ?? fetch, maxBytes: options.maxBytes ?? 5120, timeoutMs: options.timeoutMs ?? 3000, ttlSeconds: options.ttlSeconds ?? 600 }
  return async function clientMetadataDocuments(req, res) {
    const url = new URL(req.url ?? '/', 'http://dev-idp')
    const clientId = url.searchParams.get('client_id')
    if (url.pathname !== '/auth' || req.method !== 'GET' || clientId === null || !isMetadataDocumentUrl(clientId)) return false
    let metadata: Record<string, unknown>
    try {
      metadata = await fetchDocument(clientId, settings)
      await provider.Client.adapter.upsert(clientId, metadata, settings.ttlSeconds)
    } catch (error) {
      const why = error instanceof DocumentRefused ? error.message : 'it could not be read'
      sendRefusal(res, 400, 'invalid_client', `client_id metadata document refused: ${why}`)
      return true
    }
    try {
      await provider.Client.find(clientId)
    } catch (error) {
      await provider.Client.adapter.destroy(clientId)
      const detail = Reflect.get(Object(error), 'error_description')
      sendRefusal(res, 400, 'invalid_client_metadata', `client_id metadata document refused: ${typeof detail === 'string' ? detail : 'its metadata is invalid'}`)
      return true
    }
    return false
  }
}
