import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { codeChallengeOf, createOidcSignIn, randomToken, type SignInClient } from '../../../src/admin/approvals-web/oidc-sign-in.js'
import { createJwksCache } from '../../../src/auth/jwks-cache.js'
import { createTokenVerifier } from '../../../src/auth/verify-token.js'
import { systemClock } from '../../../src/clock.js'
import { UpstreamError } from '../../../src/errors.js'
import { registerWebClient } from '../../../src/sandbox/oidc/register-web-client.js'
import { startDevIdp, type DevIdp } from '../../../src/sandbox/oidc/start-dev-idp.js'
import { signInAs } from '../../support/login-browser.js'

// The sign-in client against the real dev IdP: a person picks carol on its login page, and the
// code that comes back is redeemed with the right (or a wrong) PKCE verifier and nonce.

const AUDIENCE = 'http://127.0.0.1:1/mcp'
const REDIRECT = 'http://127.0.0.1:1/approvals/callback'
let idp: DevIdp
let client: SignInClient
let clientId: string

before(async () => {
  idp = await startDevIdp({ audience: AUDIENCE })
  clientId = await registerWebClient(idp.issuer, REDIRECT)
  const jwks = createJwksCache({ issuer: idp.issuer, clock: systemClock, allowInsecureLoopback: true })
  const verifier = createTokenVerifier({ issuer: idp.issuer, audience: AUDIENCE, algorithms: ['RS256'], clockToleranceSeconds: 5, groupsClaim: 'groups', keys: jwks.getKey, clock: systemClock })
  client = createOidcSignIn({
    issuer: idp.issuer,
    clientId,
    redirectUrl: REDIRECT,
    resource: AUDIENCE,
    scopes: [],
    verify: verifier.verify,
    keys: jwks.getKey,
    algorithms: ['RS256'],
    clockToleranceSeconds: 5,
    clock: systemClock,
    allowInsecureLoopback: true,
  })
})
after(() => idp.close())

/** Starts a sign-in, picks `user` on the login page; returns the callback's code and iss with what the gateway kept. */
async function codeFor(user: string): Promise<{ code: string; iss: string | undefined; codeVerifier: string; nonce: string; url: URL }> {
  const [state, nonce, codeVerifier] = [randomToken(), randomToken(), randomToken()]
  const url = new URL(await client.authorizationUrl({ state, nonce, codeChallenge: codeChallengeOf(codeVerifier) }))
  const { callback } = await signInAs(user, url)
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT, `back at the redirect URL: ${callback.href}`)
  assert.equal(callback.searchParams.get('state'), state, 'the state comes back unchanged')
  const code = callback.searchParams.get('code')
  assert.ok(code !== null, `a code came back: ${callback.href}`)
  return { code, iss: callback.searchParams.get('iss') ?? undefined, codeVerifier, nonce, url }
}

async function refused(attempt: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(attempt, (error: unknown) => error instanceof UpstreamError && error.code === 'OIDC_INVALID' && pattern.test(error.message))
}

describe('approvals sign-in at the dev IdP', () => {
  it('refuses to start when the issuer cannot be discovered, and tries again next time', async () => {
    let calls = 0
    const down = createOidcSignIn({
      issuer: idp.issuer, clientId, redirectUrl: REDIRECT, resource: AUDIENCE, scopes: [], verify: async () => assert.fail('not reached'),
      keys: async () => assert.fail('not reached'), algorithms: ['RS256'], clockToleranceSeconds: 5, clock: systemClock, allowInsecureLoopback: true,
      fetch: async () => {
        calls++
        throw new Error('connection refused')
      },
    })
    for (let i = 0; i < 2; i++) await assert.rejects(down.authorizationUrl({ state: 's', nonce: 'n', codeChallenge: 'c' }), (e: unknown) => e instanceof UpstreamError && e.code === 'OIDC_UNAVAILABLE')
    assert.equal(calls, 2, 'a failed discovery is not cached')
  })

  it('asks for a code with S256 PKCE, state, nonce and the gateway as resource', async () => {
    const url = new URL(await client.authorizationUrl({ state: 's', nonce: 'n', codeChallenge: 'c' }))
    const params = Object.fromEntries(url.searchParams)
    assert.deepEqual(params, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, scope: 'openid', state: 's', nonce: 'n', code_challenge: 'c', code_challenge_method: 'S256', resource: AUDIENCE })
  })

  it('redeems a code into the principal the gateway\'s verifier sees', async () => {
    const { code, iss, codeVerifier, nonce } = await codeFor('carol')
    assert.equal(iss, idp.issuer, 'RFC 9207 iss')
    const principal = await client.redeem({ code, codeVerifier, nonce, iss })
    assert.equal(principal.subject, 'carol')
    assert.ok(principal.groups.includes('sre-leads'), `carol's groups: ${principal.groups.join(', ')}`)
  })

  it('refuses a wrong nonce, a wrong PKCE verifier, another issuer and a replayed code', async () => {
    const a = await codeFor('carol')
    await refused(client.redeem({ code: a.code, codeVerifier: a.codeVerifier, nonce: randomToken(), iss: a.iss }), /nonce/)
    const b = await codeFor('carol')
    await refused(client.redeem({ code: b.code, codeVerifier: randomToken(), nonce: b.nonce, iss: b.iss }), /token endpoint answered 400 \(invalid_grant\)/)
    const c = await codeFor('carol')
    await refused(client.redeem({ code: c.code, codeVerifier: c.codeVerifier, nonce: c.nonce, iss: 'https://evil.example' }), /another issuer/)
    const principal = await client.redeem({ code: c.code, codeVerifier: c.codeVerifier, nonce: c.nonce, iss: c.iss })
    assert.equal(principal.subject, 'carol', 'the refused mix-up did not spend the code')
    await refused(client.redeem({ code: c.code, codeVerifier: c.codeVerifier, nonce: c.nonce, iss: c.iss }), /invalid_grant/)
  })
})
