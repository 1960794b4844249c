/**
 * The dev IdP with the clients MCP hosts really are: public clients that register dynamically as
 * native apps with loopback redirects, or name a Client ID Metadata Document; requests with no
 * scope, `openid`, or the gateway's; refresh tokens for `offline_access`; and every refusal named.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { z } from 'zod'
import { listenOn } from '../../../src/sandbox/emulator-http.js'
import { startDevIdp, type DevIdp } from '../../../src/sandbox/oidc/start-dev-idp.js'
import { createLoginBrowser, followWithin, signInAs } from '../../support/login-browser.js'
import { createTeardown } from '../../support/teardown.js'

const audience = 'http://127.0.0.1:8080/mcp'
let idp: DevIdp
let docs: string
const documents = new Map<string, { status?: number; body: string; delayMs?: number; location?: string }>()
let strict: DevIdp
const teardown = createTeardown()

before(async () => {
  idp = await startDevIdp({ audience })
  teardown.add(() => idp.close())
  // Client ID Metadata Documents, served from loopback only.
  const server: Server = createServer((req, res) => {
    const doc = documents.get(req.url ?? '')
    const answer = () => {
      res.writeHead(doc?.status ?? (doc === undefined ? 404 : 200), { 'content-type': 'application/json', ...(doc?.location === undefined ? {} : { location: doc.location }) })
      res.end(doc?.body ?? '{}')
    }
    if (doc?.delayMs === undefined) answer()
    else setTimeout(answer, doc.delayMs).unref()
  })
  docs = `http://127.0.0.1:${await listenOn(server, '127.0.0.1', 0)}`
  teardown.add(() => new Promise<void>((done) => server.close(() => done())))
  teardown.add(() => server.closeAllConnections())
  // An IdP that reads https documents of https://client.example from the loopback server above, and waits at most 300 ms.
  strict = await startDevIdp({
    audience,
    clientMetadataDocuments: {
      timeoutMs: 300,
      fetch: (input, init) => {
        const url = new URL(String(input))
        return fetch(url.hostname === 'client.example' ? `${docs}${url.pathname}` : url, init)
      },
    },
  })
  teardown.add(() => strict.close())
})
after(() => teardown.run())

const tokenSchema = z.object({ access_token: z.string(), refresh_token: z.string().optional(), scope: z.string().optional() })
const refusalSchema = z.object({ error: z.string(), error_description: z.string().min(1) })

function pkce() {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

async function register(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${idp.issuer}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

async function registerNative(redirect: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await register({ application_type: 'native', redirect_uris: [redirect], token_endpoint_auth_method: 'none', ...extra })
  assert.equal(response.status, 201, await response.clone().text())
  return z.object({ client_id: z.string() }).parse(await response.json()).client_id
}

function authorizeUrl(params: Record<string, string | undefined>, issuer = idp.issuer): string {
  const query = new URLSearchParams({ response_type: 'code', resource: audience, state: 's', code_challenge_method: 'S256' })
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) query.delete(key)
    else query.set(key, value)
  }
  return `${issuer}/auth?${query}`
}

async function exchange(clientId: string, code: string, redirect: string, verifier: string): Promise<z.infer<typeof tokenSchema>> {
  const response = await fetch(idp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, client_id: clientId, resource: audience }),
  })
  assert.equal(response.status, 200, await response.clone().text())
  return tokenSchema.parse(await response.json())
}

async function verifyForGateway(token: string) {
  return (await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience, typ: 'at+jwt' })).payload
}

/** A page the IdP shows when it cannot send the refusal back: its error and description. */
async function refusalPage(url: string): Promise<z.infer<typeof refusalSchema> & { status: number }> {
  const browse = createLoginBrowser()
  const end = await followWithin(browse, new URL(url).origin, await browse(url))
  assert.ok(end instanceof Response, `the IdP answered itself, not by redirect: ${String(end)}`)
  const html = await end.text()
  const error = /<code id="error">([^<]*)<\/code>/.exec(html)?.[1]
  const description = /<span id="error_description">([^<]*)<\/span>/.exec(html)?.[1]
  return { status: end.status, ...refusalSchema.parse({ error, error_description: description }) }
}

/** A refusal sent back to the client's redirect URI: its error, description and iss. */
async function redirectedRefusal(url: string): Promise<z.infer<typeof refusalSchema> & { iss: string | null }> {
  const browse = createLoginBrowser()
  const end = await followWithin(browse, idp.issuer, await browse(url))
  assert.ok(end instanceof URL, 'the refusal went back to the client')
  return { ...refusalSchema.parse({ error: end.searchParams.get('error'), error_description: end.searchParams.get('error_description') }), iss: end.searchParams.get('iss') }
}

describe('dev IdP: what MCP clients send', () => {
  it('advertises RFC 9207 iss, Client ID Metadata Documents and the gateway scope', async () => {
    const meta = z.looseObject({ authorization_response_iss_parameter_supported: z.boolean(), client_id_metadata_document_supported: z.boolean(), scopes_supported: z.array(z.string()) })
      .parse(await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json())
    assert.equal(meta.authorization_response_iss_parameter_supported, true)
    assert.equal(meta.client_id_metadata_document_supported, true)
    for (const scope of ['openid', 'offline_access', 'mcp']) assert.ok(meta.scopes_supported.includes(scope), `scopes_supported has ${scope}`)
  })

  for (const [label, scope] of [['no scope', undefined], ['openid only', 'openid'], ['the gateway scope', 'mcp']] as const) {
    it(`issues a gateway token for ${label}, to a native client on any loopback port`, async () => {
      const clientId = await registerNative('http://127.0.0.1:4000/callback')
      const redirect = 'http://127.0.0.1:51234/callback'
      const { verifier, challenge } = pkce()
      const { callback } = await signInAs('bob', authorizeUrl({ client_id: clientId, redirect_uri: redirect, code_challenge: challenge, scope }))
      assert.equal(callback.origin + callback.pathname, redirect)
      assert.equal(callback.searchParams.get('iss'), idp.issuer, 'RFC 9207 iss')
      const tokens = await exchange(clientId, callback.searchParams.get('code') ?? '', redirect, verifier)
      const claims = await verifyForGateway(tokens.access_token)
      assert.equal(claims.sub, 'bob')
      assert.equal(claims.scope, 'mcp')
      assert.equal(tokens.refresh_token, undefined, 'no refresh token without offline_access')
    })
  }

  it('issues a refresh token for offline_access, and the refreshed access token is for the gateway', async () => {
    const redirect = 'http://127.0.0.1:4001/callback'
    const clientId = await registerNative(redirect, { grant_types: ['authorization_code', 'refresh_token'], scope: 'mcp offline_access' })
    const { verifier, challenge } = pkce()
    const { callback } = await signInAs('alice', authorizeUrl({ client_id: clientId, redirect_uri: redirect, code_challenge: challenge, scope: 'mcp offline_access', prompt: 'consent' }))
    const tokens = await exchange(clientId, callback.searchParams.get('code') ?? '', redirect, verifier)
    assert.ok(tokens.refresh_token !== undefined, 'a refresh token')
    const refreshed = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId, resource: audience }),
    })
    assert.equal(refreshed.status, 200, await refreshed.clone().text())
    const next = tokenSchema.parse(await refreshed.json())
    assert.notEqual(next.access_token, tokens.access_token)
    const claims = await verifyForGateway(next.access_token)
    assert.equal(claims.sub, 'alice')
    assert.deepEqual(claims.groups, ['dba'])
  })

  it('signs in a client named by its Client ID Metadata Document', async () => {
    const clientId = `${docs}/good.json`
    const redirect = 'http://127.0.0.1:4002/callback'
    documents.set('/good.json', { body: JSON.stringify({ client_id: clientId, client_name: 'Doc client', redirect_uris: [redirect], token_endpoint_auth_method: 'none' }) })
    const { verifier, challenge } = pkce()
    const { callback } = await signInAs('bob', authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1:4999/callback', code_challenge: challenge }))
    assert.equal(callback.port, '4999', 'a loopback redirect on another port (RFC 8252)')
    const tokens = await exchange(clientId, callback.searchParams.get('code') ?? '', 'http://127.0.0.1:4999/callback', verifier)
    assert.equal((await verifyForGateway(tokens.access_token)).client_id, clientId)
  })
})

describe('dev IdP: every refusal is named and described', () => {
  it('refuses a scope it does not know, back at the client, with iss', async () => {
    const redirect = 'http://127.0.0.1:4003/callback'
    const clientId = await registerNative(redirect)
    const refused = await redirectedRefusal(authorizeUrl({ client_id: clientId, redirect_uri: redirect, code_challenge: pkce().challenge, scope: 'mcp admin:everything' }))
    assert.equal(refused.error, 'invalid_scope')
    assert.match(refused.error_description, /admin:everything/)
    assert.equal(refused.iss, idp.issuer)
  })

  it('refuses a public client without PKCE', async () => {
    const redirect = 'http://127.0.0.1:4004/callback'
    const clientId = await registerNative(redirect)
    const refused = await redirectedRefusal(authorizeUrl({ client_id: clientId, redirect_uri: redirect, code_challenge_method: undefined }))
    assert.equal(refused.error, 'invalid_request')
    assert.match(refused.error_description, /PKCE|code_challenge/)
  })

  it('refuses an unknown client and a redirect URI the client did not register, on its own page', async () => {
    const unknown = await refusalPage(authorizeUrl({ client_id: 'no-such-client', redirect_uri: 'http://127.0.0.1:4005/callback', code_challenge: pkce().challenge }))
    assert.equal(unknown.status, 400)
    assert.equal(unknown.error, 'invalid_client')
    const clientId = await registerNative('http://127.0.0.1:4006/callback')
    const elsewhere = await refusalPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1:4006/other', code_challenge: pkce().challenge }))
    assert.equal(elsewhere.error, 'invalid_redirect_uri')
    const foreign = await refusalPage(authorizeUrl({ client_id: clientId, redirect_uri: 'https://attacker.example/callback', code_challenge: pkce().challenge }))
    assert.equal(foreign.error, 'invalid_redirect_uri')
  })

  it('names what went wrong on the sign-in page itself: an unknown user, an interaction without its cookie', async () => {
    const redirect = 'http://127.0.0.1:4011/callback'
    const clientId = await registerNative(redirect)
    await assert.rejects(signInAs('eve', authorizeUrl({ client_id: clientId, redirect_uri: redirect, code_challenge: pkce().challenge })), /sign-in stopped at 400: .*invalid_request.*unknown user: pick alice, bob, carol, mallory/s)
    const first = await fetch(authorizeUrl({ client_id: clientId, redirect_uri: redirect, code_challenge: pkce().challenge }), { redirect: 'manual' })
    const stranger = await refusalPage(new URL(first.headers.get('location') ?? '', idp.issuer).href)
    assert.equal(stranger.status, 400)
    assert.equal(stranger.error_description, 'this sign-in has expired or is invalid')
  })

  it('refuses to register a native client with a non-loopback http redirect', async () => {
    const response = await register({ application_type: 'native', redirect_uris: ['http://example.com/callback'], token_endpoint_auth_method: 'none' })
    assert.equal(response.status, 400)
    const refused = refusalSchema.parse(await response.json())
    assert.equal(refused.error, 'invalid_redirect_uri')
  })

  const badDocuments: readonly [string, { status?: number; body: string } | undefined, RegExp][] = [
    ['a document naming another client_id', { body: JSON.stringify({ client_id: 'https://other.example/client.json', redirect_uris: ['http://127.0.0.1:4007/cb'] }) }, /not the URL it was fetched from/],
    ['a document holding a secret', { body: JSON.stringify({ client_id: '$URL', redirect_uris: ['http://127.0.0.1:4007/cb'], client_secret: 's3cret' }) }, /client secret/],
    ['a confidential client', { body: JSON.stringify({ client_id: '$URL', redirect_uris: ['http://127.0.0.1:4007/cb'], token_endpoint_auth_method: 'client_secret_basic' }) }, /token_endpoint_auth_method/],
    ['a document without redirect URIs', { body: JSON.stringify({ client_id: '$URL' }) }, /redirect_uris/],
    ['a document larger than 5 KiB', { body: JSON.stringify({ client_id: '$URL', redirect_uris: ['http://127.0.0.1:4007/cb'], client_name: 'x'.repeat(6000) }) }, /larger than 5120 bytes/],
    ['a document that is not JSON', { body: '<html>' }, /not JSON/],
    ['a missing document', undefined, /HTTP 404/],
  ]
  for (const [label, doc, why] of badDocuments) {
    it(`refuses ${label}`, async () => {
      const path = `/bad-${randomBytes(4).toString('hex')}.json`
      const clientId = `${docs}${path}`
      if (doc !== undefined) documents.set(path, { ...doc, body: doc.body.replace('$URL', clientId) })
      const refused = await refusalPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1:4007/cb', code_challenge: pkce().challenge }))
      assert.equal(refused.status, 400)
      assert.equal(refused.error, 'invalid_client')
      assert.match(refused.error_description, why)
    })
  }

  it('refuses a redirect URI its metadata document does not list', async () => {
    const clientId = `${docs}/narrow.json`
    documents.set('/narrow.json', { body: JSON.stringify({ client_id: clientId, redirect_uris: ['http://127.0.0.1:4008/callback'] }) })
    const refused = await refusalPage(authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1:4008/elsewhere', code_challenge: pkce().challenge }))
    assert.equal(refused.error, 'invalid_redirect_uri')
  })

  it('reads metadata documents only from https or loopback http URLs', async () => {
    const refused = await refusalPage(authorizeUrl({ client_id: 'http://example.com/client.json', redirect_uri: 'http://127.0.0.1:4009/cb', code_challenge: pkce().challenge }))
    assert.equal(refused.error, 'invalid_client', 'a plain-http URL elsewhere is just an unknown client, never fetched')
  })

  it('fetches https documents, and refuses one too slow or redirected', async () => {
    const clientId = 'https://client.example/mcp-client.json'
    documents.set('/mcp-client.json', { body: JSON.stringify({ client_id: clientId, redirect_uris: ['http://127.0.0.1:4010/cb'] }) })
    const { callback } = await signInAs('mallory', authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1:4010/cb', code_challenge: pkce().challenge }, strict.issuer))
    assert.ok(callback.searchParams.get('code') !== null, `an https document is read: ${callback.search}`)
    const slowId = 'https://client.example/slow.json'
    documents.set('/slow.json', { delayMs: 2000, body: JSON.stringify({ client_id: slowId, redirect_uris: ['http://127.0.0.1:4010/cb'] }) })
    const slow = await refusalPage(authorizeUrl({ client_id: slowId, redirect_uri: 'http://127.0.0.1:4010/cb', code_challenge: pkce().challenge }, strict.issuer))
    assert.equal(slow.error, 'invalid_client')
    assert.match(slow.error_description, /could not be fetched/)
    documents.set('/moved.json', { status: 302, location: '/mcp-client.json', body: '' })
    const moved = await refusalPage(authorizeUrl({ client_id: 'https://client.example/moved.json', redirect_uri: 'http://127.0.0.1:4010/cb', code_challenge: pkce().challenge }, strict.issuer))
    assert.equal(moved.error, 'invalid_client')
    assert.match(moved.error_description, /could not be fetched/)
  })
})
