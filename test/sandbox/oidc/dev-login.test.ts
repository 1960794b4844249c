import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { z } from 'zod'
import { startDevIdp } from '../../../src/sandbox/oidc/start-dev-idp.js'
import type { DevIdp } from '../../../src/sandbox/oidc/start-dev-idp.js'
import { createLoginBrowser, followWithin, type Browse } from '../../support/login-browser.js'
import { createTeardown } from '../../support/teardown.js'

const audience = 'http://127.0.0.1:8080/mcp'
const redirectUri = 'http://localhost:6274/oauth/callback'
let idp: DevIdp

const teardown = createTeardown()
before(async () => {
  idp = await startDevIdp({ audience })
  teardown.add(() => idp.close())
})
after(() => teardown.run())

/** A browser on the IdP (paths resolve against its issuer): a cookie jar and manual redirects. */
function createBrowser(): Browse {
  const browse = createLoginBrowser()
  return (url, init) => browse(new URL(url, idp.issuer).href, init)
}

async function register(body: Record<string, unknown> = {}): Promise<string> {
  const response = await fetch(`${idp.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://localhost:6274' },
    body: JSON.stringify({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], client_name: 'Inspector', ...body }),
  })
  assert.equal(response.status, 201)
  assert.equal(response.headers.get('access-control-allow-origin'), 'http://localhost:6274')
  return z.object({ client_id: z.string() }).parse(await response.json()).client_id
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function authorizeUrl(clientId: string, challenge: string | undefined): string {
  const params = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', resource: audience, state: 'st4te' })
  if (challenge !== undefined) {
    params.set('code_challenge', challenge)
    params.set('code_challenge_method', 'S256')
  }
  return `/auth?${params}`
}

/** Follows redirects inside the IdP; stops at a page or at the client's redirect URI. */
const follow = (browse: Browse, first: Response): Promise<Response | URL> => followWithin(browse, idp.issuer, first)

async function signIn(user: string, clientId: string, challenge: string): Promise<URL> {
  const browse = createBrowser()
  const page = await follow(browse, await browse(authorizeUrl(clientId, challenge)))
  assert.ok(page instanceof Response, 'page instanceof Response')
  assert.equal(page.status, 200)
  const html = await page.text()
  for (const name of ['alice', 'bob', 'mallory']) assert.ok(html.includes(`value="${name}"`), name)
  const action = /action="([^"]+)"/.exec(html)?.[1]
  assert.ok(action !== undefined, 'action !== undefined')
  const submitted = await browse(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=${user}` })
  const end = await follow(browse, submitted)
  if (end instanceof Response) throw new Error(`flow stopped at ${end.status}`)
  return end
}

describe('dev IdP interactive login (authorization code + PKCE, dynamic registration)', () => {
  for (const [user, groups] of [['alice', ['dba']], ['bob', ['sre']], ['mallory', []]] as const) {
    it(`signs in as ${user} and issues a JWT access token for the gateway`, async () => {
      const clientId = await register()
      const { verifier, challenge } = pkce()
      const callback = await signIn(user, clientId, challenge)
      assert.equal(callback.origin + callback.pathname, redirectUri)
      assert.equal(callback.searchParams.get('state'), 'st4te')
      const code = callback.searchParams.get('code')
      assert.ok(code !== null, 'code !== null')
      const response = await fetch(idp.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:6274' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId, resource: audience }),
      })
      assert.equal(response.status, 200)
      const { access_token: token } = z.object({ access_token: z.string() }).parse(await response.json())
      const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience, typ: 'at+jwt' })
      assert.equal(protectedHeader.alg, 'RS256')
      assert.equal(payload.sub, user)
      assert.deepEqual(payload.groups, groups)
    })
  }

  it('refuses a code exchange with the wrong PKCE verifier', async () => {
    const clientId = await register()
    const { challenge } = pkce()
    const code = (await signIn('alice', clientId, challenge)).searchParams.get('code') ?? ''
    const response = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: pkce().verifier, client_id: clientId }),
    })
    assert.equal(response.status, 400)
    assert.equal(z.object({ error: z.string() }).parse(await response.json()).error, 'invalid_grant')
  })

  it('requires PKCE from public clients', async () => {
    const clientId = await register()
    const browse = createBrowser()
    const end = await follow(browse, await browse(authorizeUrl(clientId, undefined)))
    assert.ok(end instanceof URL, 'end instanceof URL')
    assert.equal(end.searchParams.get('error'), 'invalid_request')
  })

  it('returns access_denied when the user cancels and refuses unknown users', async () => {
    const clientId = await register()
    const cancelled = await signIn('cancel', clientId, pkce().challenge)
    assert.equal(cancelled.searchParams.get('error'), 'access_denied')
    await assert.rejects(signIn('eve', clientId, pkce().challenge), /flow stopped at 400/)
  })

  it('rejects an interaction without its cookie', async () => {
    const clientId = await register()
    const browse = createBrowser()
    const first = await browse(authorizeUrl(clientId, pkce().challenge))
    const location = first.headers.get('location') ?? ''
    assert.match(location, /\/interaction\//)
    const stranger = await fetch(new URL(location, idp.issuer), { redirect: 'manual' })
    assert.equal(stranger.status, 400)
    const forged = await fetch(new URL(location, idp.issuer), { method: 'POST', body: 'user=alice', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' })
    assert.equal(forged.status, 400)
  })

  it('does not let a registered client take a demo identity or act as itself', async () => {
    const clientId = await register({ client_id: 'alice' })
    assert.notEqual(clientId, 'alice')
    const response = await fetch(`${idp.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [], response_types: [], grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' }),
    })
    assert.equal(response.status, 201)
    const client = z.object({ client_id: z.string(), client_secret: z.string() }).parse(await response.json())
    const token = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: audience }),
    })
    assert.equal(token.status, 400)
    assert.equal(z.object({ error: z.string() }).parse(await token.json()).error, 'invalid_target')
  })

  it('answers registration preflights from loopback origins only', async () => {
    const ok = await fetch(`${idp.issuer}/reg`, { method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' } })
    assert.equal(ok.status, 204)
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:6274')
    const other = await fetch(`${idp.issuer}/reg`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } })
    assert.equal(other.headers.get('access-control-allow-origin'), null)
  })
})
