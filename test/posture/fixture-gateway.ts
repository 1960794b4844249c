import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose'

export interface FixtureFlaws {
  /** Accepts tokens for any audience. */
  readonly anyAudience?: boolean
  /** 401 challenge without resource_metadata. */
  readonly noResourceMetadata?: boolean
  /** Does not check Origin. */
  readonly anyOrigin?: boolean
  /** Publishes its RSA key without `alg` and verifies it under any RSA algorithm. */
  readonly anyRsaAlg?: boolean
}

export interface FixtureGateway {
  readonly mcpUrl: string
  readonly issuer: string
  mint(options?: { readonly aud?: string; readonly expiresInSeconds?: number }): Promise<string>
  /** Its signing key as a private JWK with kid, for `--signing-key`. */
  readonly privateJwk: JWK
  close(): Promise<void>
}

/** A small MCP resource server that does OAuth the way the spec asks (or, with flaws, does not). */
export async function startFixtureGateway(flaws: FixtureFlaws = {}): Promise<FixtureGateway> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'fixture-key', alg: 'RS256' }
  const published = { ...(await exportJWK(publicKey)), kid: 'fixture-key', use: 'sig' }
  const jwk = flaws.anyRsaAlg === true ? published : { ...published, alg: 'RS256' }
  const keys = createLocalJWKSet({ keys: [jwk] })
  let base = ''
  const mcpUrl = () => `${base}/mcp`
  const metadataUrl = () => `${base}/.well-known/oauth-protected-resource/mcp`

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
  const challenge = (error?: string) =>
    ['Bearer realm="airlock"', ...(error === undefined ? [] : [`error="${error}"`]), ...(flaws.noResourceMetadata === true ? [] : [`resource_metadata="${metadataUrl()}"`])].join(', ')

  async function authorized(req: IncomingMessage): Promise<boolean> {
    const header = req.headers.authorization
    if (header === undefined || !header.startsWith('Bearer ')) return false
    try {
      await jwtVerify(header.slice(7), keys, {
        issuer: base,
        algorithms: flaws.anyRsaAlg === true ? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] : ['RS256'],
        ...(flaws.anyAudience === true ? {} : { audience: mcpUrl() }),
      })
      return true
    } catch {
      return false
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', base).pathname
    if (path === '/.well-known/oauth-protected-resource/mcp') return json(res, 200, { resource: mcpUrl(), authorization_servers: [base] })
    if (path === '/.well-known/openid-configuration') return json(res, 200, { issuer: base, jwks_uri: `${base}/jwks` })
    if (path === '/jwks') return json(res, 200, { keys: [jwk] })
    if (path !== '/mcp') return json(res, 404, { error: 'not_found' })
    const origin = req.headers.origin
    if (flaws.anyOrigin !== true && origin !== undefined && origin !== base) return json(res, 403, { error: 'forbidden_origin' })
    if (!(await authorized(req))) {
      return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': challenge(req.headers.authorization === undefined ? undefined : 'invalid_token') })
    }
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
    const body: unknown = chunks.length === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8'))
    const server = new Server({ name: 'fixture-gateway', version: '1.0.0' }, { capabilities: { tools: {} } })
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: 'whoami', description: 'Who am I', inputSchema: { type: 'object', properties: {} } }],
    }))
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, body)
  }

  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'internal' })
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const address: AddressInfo | string | null = http.address()
  if (address === null || typeof address === 'string') throw new TypeError('no TCP address')
  const { port } = address
  base = `http://127.0.0.1:${port}`

  async function mint(options: { readonly aud?: string; readonly expiresInSeconds?: number } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ scope: 'mcp' })
      .setProtectedHeader({ alg: 'RS256', kid: 'fixture-key' })
      .setIssuer(base)
      .setSubject('alice')
      .setAudience(options.aud ?? mcpUrl())
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (options.expiresInSeconds ?? 600))
      .sign(privateKey satisfies CryptoKey)
  }

  return {
    mcpUrl: mcpUrl(),
    issuer: base,
    mint,
    privateJwk,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.close((err) => (err ? reject(err) : resolve()))
        http.closeAllConnections()
      }),
  }
}
