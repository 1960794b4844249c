/**
 * The official SDK client's OAuth support against the running sandbox, with no client-side tuning:
 * a 401 from the gateway → RFC 9728 metadata → authorization-server metadata → dynamic client
 * registration → authorization code + PKCE with the RFC 8707 resource → the login page (driven
 * over HTTP) → a JWT for the gateway → tools.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { auth, Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client'
import { UnauthorizedError as UnauthorizedErrorV1 } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as StreamableHTTPClientTransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { InMemoryOAuthClientProvider } from '@modelcontextprotocol/sdk/examples/client/simpleOAuthClientProvider.js'
import { decodeJwt } from 'jose'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'
import { signInAs } from '../support/login-browser.js'
import { MemoryOAuthProvider } from './support/memory-oauth-provider.js'

const REDIRECT = 'http://127.0.0.1:33418/oauth/callback'

describe('the SDK OAuth client signs in to the sandbox through the login page', { timeout: 120_000 }, () => {
  let cwd: string
  let sandbox: Sandbox
  const clients: Client[] = []

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'airlock-oauth-'))
    sandbox = await startSandbox({ cwd, port: 0 })
  })
  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()))
    await sandbox?.close()
    await rm(cwd, { recursive: true, force: true })
  })

  /** Connects with OAuth as `user`; returns the client, the provider and the sign-in time (first 401 → connected). */
  async function signIn(user: string, extra: ConstructorParameters<typeof MemoryOAuthProvider>[1] = {}) {
    const provider = new MemoryOAuthProvider(REDIRECT, extra)
    let first401: number | undefined
    const watch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (response.status === 401 && first401 === undefined) first401 = performance.now()
      return response
    }
    const url = new URL(sandbox.gatewayUrl)
    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: watch })
    await assert.rejects(new Client({ name: 'oauth-e2e', version: '1.0.0' }).connect(transport), UnauthorizedError)
    const authorization = provider.redirects[0]
    assert.ok(authorization !== undefined, 'the client was sent to the authorization endpoint')
    const { callback } = await signInAs(user, authorization)
    assert.equal(callback.searchParams.get('error_description'), null, `no refusal: ${callback.search}`)
    await transport.finishAuth(callback.searchParams)
    const client = new Client({ name: 'oauth-e2e', version: '1.0.0' })
    clients.push(client)
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: watch }))
    const tools = (await client.listTools()).tools.map((t) => t.name).sort()
    const whoami = await client.callTool({ name: 'whoami', arguments: {} })
    const elapsedMs = performance.now() - (first401 ?? Number.NaN)
    return { client, provider, authorization, callback, tools, whoami, elapsedMs }
  }

  for (const [user, groups, tool] of [['alice', ['dba'], 'sql_query'], ['bob', ['sre'], 'ssm_run']] as const) {
    it(`signs in as ${user} with default client metadata, lists tools and calls whoami`, async (t) => {
      const run = await signIn(user)
      t.diagnostic(`OAuth sign-in as ${user}: ${run.elapsedMs.toFixed(0)} ms from the first 401 to the first tool result`)
      const params = run.authorization.searchParams
      assert.equal(params.get('resource'), sandbox.gatewayUrl, 'RFC 8707 resource is the gateway')
      assert.equal(params.get('code_challenge_method'), 'S256', 'PKCE')
      assert.equal(run.callback.searchParams.get('iss'), sandbox.idp.issuer, 'RFC 9207 iss in the authorization response')
      assert.ok(run.tools.includes('whoami') && run.tools.includes(tool), `tools for ${user}: ${run.tools.join(', ')}`)
      assert.equal(run.whoami.isError, undefined, JSON.stringify(run.whoami.content))
      const who = run.whoami.structuredContent as { subject: string; groups: string[]; issuer: string }
      assert.equal(who.subject, user)
      assert.deepEqual(who.groups, groups)
      const token = decodeJwt(run.provider.tokens()?.access_token ?? '')
      assert.equal(token.aud, sandbox.gatewayUrl, 'the access token is for the gateway')
    })
  }

  it('the v1 SDK with the in-memory provider it ships signs in as bob and calls whoami', async () => {
    const redirects: URL[] = []
    const provider = new InMemoryOAuthClientProvider(REDIRECT, { client_name: 'Airlock e2e v1 client', redirect_uris: [REDIRECT] }, (url) => redirects.push(url))
    const url = new URL(sandbox.gatewayUrl)
    // The shipped class types clientMetadataUrl as `string | undefined`, which the SDK's own interface
    // refuses under exactOptionalPropertyTypes; at run time an absent URL is what the SDK expects.
    // @ts-expect-error -- the SDK's example provider against its interface, as shipped
    const transport = new StreamableHTTPClientTransportV1(url, { authProvider: provider })
    await assert.rejects(new ClientV1({ name: 'oauth-e2e-v1', version: '1.0.0' }).connect(transport), UnauthorizedErrorV1)
    const authorization = redirects[0]
    assert.ok(authorization !== undefined, 'the v1 client was sent to the authorization endpoint')
    assert.equal(authorization.searchParams.get('resource'), sandbox.gatewayUrl)
    const { callback } = await signInAs('bob', authorization)
    assert.equal(callback.searchParams.get('iss'), sandbox.idp.issuer)
    await transport.finishAuth(callback.searchParams.get('code') ?? '')
    const client = new ClientV1({ name: 'oauth-e2e-v1', version: '1.0.0' })
    // @ts-expect-error -- as above
    await client.connect(new StreamableHTTPClientTransportV1(url, { authProvider: provider }))
    const whoami = await client.callTool({ name: 'whoami', arguments: {} })
    await client.close()
    assert.equal(whoami.isError, undefined, JSON.stringify(whoami.content))
    assert.equal((whoami.structuredContent as { subject: string }).subject, 'bob')
  })

  it('renews with a refresh token when the client asks for offline_access, and the renewed token works at the gateway', async () => {
    const run = await signIn('bob', { grant_types: ['authorization_code', 'refresh_token'] })
    const asked = run.authorization.searchParams.get('scope')?.split(' ') ?? []
    assert.ok(asked.includes('offline_access') && asked.includes('mcp'), `the client asked for the gateway scope and offline_access: ${asked.join(' ')}`)
    const first = run.provider.tokens()
    assert.ok(first?.refresh_token !== undefined, 'a refresh token was issued')
    // What the SDK does when its access token is refused as expired: renew silently, no login page.
    assert.equal(await auth(run.provider, { serverUrl: new URL(sandbox.gatewayUrl) }), 'AUTHORIZED')
    const renewed = run.provider.tokens()
    assert.notEqual(renewed?.access_token, first.access_token, 'a new access token')
    assert.equal(run.provider.redirects.length, 1, 'no second trip to the login page')
    const client = new Client({ name: 'oauth-e2e', version: '1.0.0' })
    clients.push(client)
    await client.connect(new StreamableHTTPClientTransport(new URL(sandbox.gatewayUrl), { authProvider: run.provider }))
    const whoami = await client.callTool({ name: 'whoami', arguments: {} })
    assert.equal(whoami.isError, undefined, JSON.stringify(whoami.content))
    assert.equal((whoami.structuredContent as { subject: string }).subject, 'bob')
  })

  it('advertises the gateway scope, never offline_access, in its protected resource metadata', async () => {
    const url = new URL(sandbox.gatewayUrl)
    const response = await fetch(`${url.origin}/.well-known/oauth-protected-resource${url.pathname}`)
    assert.equal(response.status, 200)
    const meta = (await response.json()) as { resource: string; authorization_servers: string[]; scopes_supported: string[] }
    assert.equal(meta.resource, sandbox.gatewayUrl)
    assert.deepEqual(meta.authorization_servers, [sandbox.idp.issuer])
    assert.deepEqual(meta.scopes_supported, ['mcp'])
  })
})
