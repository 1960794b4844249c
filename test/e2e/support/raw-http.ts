/** Raw HTTP against /mcp, for what the SDK client cannot express (bad tokens, foreign origins, hijacks). */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-e2e', version: '1.0.0' } },
} as const

export interface RawResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

export async function postMcp(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/** Initializes a session with `token` and returns its id. */
export async function openSession(url: string, token: string): Promise<string> {
  const response = await postMcp(url, INITIALIZE, { authorization: `Bearer ${token}` })
  const id = response.headers.get('mcp-session-id')
  if (response.status !== 200 || id === null) throw new Error(`initialize failed: ${response.status} ${response.text}`)
  return id
}

export function sessionHeaders(token: string, sessionId: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }
}

export const MODERN_VERSION = '2026-07-28'

/** A 2026-07-28 request body: the per-request `_meta` envelope instead of an initialize handshake. */
export function modernRequest(id: number, method: string, params: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
        'io.modelcontextprotocol/clientInfo': { name: 'raw-e2e', version: '1.0.0' },
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  }
}

/** The standard headers a 2026-07-28 client sends with `body` (override any to disagree with it). */
export function modernHeaders(token: string, method: string, name?: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
  }
}
