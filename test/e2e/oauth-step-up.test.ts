/**
 * Scope step-up through the sandbox's own IdP: with a policy whose `toolScopes` put `sql_query`
 * behind `orders.read`, the gateway advertises that scope and the dev IdP grants it; a token without
 * it is refused with 403 insufficient_scope naming it, and the SDK client signs in again for the
 * union of scopes and is served.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client'
import { decodeJwt } from 'jose'
import { z } from 'zod'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import { signInAs } from '../support/login-browser.js'
import { createTeardown } from '../support/teardown.js'
import { MemoryOAuthProvider } from './support/memory-oauth-provider.js'

const DEMO = fileURLToPath(new URL('../../policies/demo.json', import.meta.url))
const REDIRECT = 'http://127.0.0.1:33419/oauth/callback'

describe('scope step-up with the sandbox IdP', { timeout: 120_000 }, () => {
  const teardown = createTeardown()
  let sandbox: Sandbox

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-step-up-'))
    teardown.add(() => rm(dir, { recursive: true, force: true }))
    const { $schema: _schema, ...demo } = z.looseObject({ $schema: z.string().optional() }).parse(JSON.parse(await readFile(DEMO, 'utf8')))
    const policy = join(dir, 'scoped.json')
    await writeFile(policy, JSON.stringify({ ...demo, toolScopes: { sql_query: ['orders.read'] } }))
    sandbox = await startSandbox({ cwd: dir, port: 0, policyFiles: [policy] })
    teardown.add(() => sandbox.close())
  })
  after(() => teardown.run())

  /** A token for alice holding only `mcp`, from the IdP's own flow, and the client it was issued to. */
  async function narrowToken(): Promise<{ clientId: string; accessToken: string }> {
    const reg = await fetch(`${sandbox.idp.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ application_type: 'native', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] }),
    })
    const clientId = z.object({ client_id: z.string() }).parse(await reg.json()).client_id
    const verifier = randomBytes(32).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const query = new URLSearchParams({ client_id: clientId, redirect_uri: REDIRECT, response_type: 'code', scope: 'mcp', resource: sandbox.gatewayUrl, code_challenge: challenge, code_challenge_method: 'S256' })
    const { callback } = await signInAs('alice', `${sandbox.idp.issuer}/auth?${query}`)
    const response = await fetch(sandbox.idp.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId, resource: sandbox.gatewayUrl }),
    })
    return { clientId, accessToken: z.object({ access_token: z.string() }).parse(await response.json()).access_token }
  }

  it('advertises the policy scope with the gateway scope', async () => {
    const url = new URL(sandbox.gatewayUrl)
    const meta = z.object({ scopes_supported: z.array(z.string()) }).parse(await (await fetch(`${url.origin}/.well-known/oauth-protected-resource${url.pathname}`)).json())
    assert.deepEqual(meta.scopes_supported, ['mcp', 'orders.read'])
  })

  it('a token without orders.read gets 403 insufficient_scope; the SDK signs in again for it and is served', async () => {
    const narrow = await narrowToken()
    assert.equal(decodeJwt(narrow.accessToken).scope, 'mcp')
    const provider = new MemoryOAuthProvider(REDIRECT)
    provider.saveClientInformation({ client_id: narrow.clientId })
    provider.saveTokens({ access_token: narrow.accessToken, token_type: 'Bearer', scope: 'mcp' })
    const challenges: string[] = []
    const watch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (response.status === 403) challenges.push(response.headers.get('www-authenticate') ?? '')
      return response
    }
    const url = new URL(sandbox.gatewayUrl)
    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: watch })
    const client = new Client({ name: 'step-up-e2e', version: '1.0.0' })
    teardown.add(() => client.close())
    await client.connect(transport)
    const whoami = await client.callTool({ name: 'whoami', arguments: {} })
    assert.equal(whoami.isError, undefined, 'an unscoped tool is served with the narrow token')

    const sql = { name: 'sql_query', arguments: { connection: 'orders-db', sql: 'SELECT count(*) AS n FROM orders' } }
    await assert.rejects(client.callTool(sql), UnauthorizedError)
    assert.match(challenges[0] ?? '', /error="insufficient_scope"/)
    assert.match(challenges[0] ?? '', /scope="orders\.read"/)
    const authorization = provider.redirects.at(-1)
    assert.ok(authorization !== undefined, 'the client went back to the IdP')
    const asked = authorization.searchParams.get('scope')?.split(' ') ?? []
    assert.ok(asked.includes('mcp') && asked.includes('orders.read'), `it asked for the union: ${asked.join(' ')}`)

    const { callback } = await signInAs('alice', authorization)
    await transport.finishAuth(callback.searchParams)
    assert.match(String(decodeJwt(provider.tokens()?.access_token ?? '').scope), /\borders\.read\b/)
    const stepped = new Client({ name: 'step-up-e2e', version: '1.0.0' })
    teardown.add(() => stepped.close())
    await stepped.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))
    const result = await stepped.callTool(sql)
    assert.equal(result.isError, undefined, JSON.stringify(result.content))
  })
})
