import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { exportSPKI, generateKeyPair, importJWK } from 'jose'
import { createJwksCache } from '../../src/auth/jwks-cache.js'
import { createTokenVerifier, MAX_TOKEN_BYTES } from '../../src/auth/verify-token.js'
import { AuthError } from '../../src/errors.js'
import { createTeardown } from '../support/teardown.js'
import { assertRefused, now, setUp, type Fixture } from './verifier-fixture.js'

describe('createTokenVerifier refusals (RS256 issuer)', () => {
  let f: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp()
    teardown.add(() => f.idp.stop())
  })
  after(() => teardown.run())
  const bearer = (token: string): string => `Bearer ${token}`

  it('refuses a request without credentials as AUTH_MISSING', async () => {
    await assertRefused(f.verifier, undefined, 'missing', 'AUTH_MISSING')
    await assertRefused(f.verifier, '', 'missing', 'AUTH_MISSING')
  })

  it('treats a non-Bearer scheme as no credentials (RFC 6750 §3.1)', async () => {
    const token = await f.idp.mint()
    await assertRefused(f.verifier, `Basic ${Buffer.from('a:b').toString('base64')}`, 'missing', 'AUTH_MISSING')
    await assertRefused(f.verifier, `DPoP ${token}`, 'missing', 'AUTH_MISSING')
    await assertRefused(f.verifier, token, 'missing', 'AUTH_MISSING')
  })

  it('refuses a Bearer header without a token, with two tokens, or with a non-JWS', async () => {
    const token = await f.idp.mint()
    await assertRefused(f.verifier, 'Bearer', 'malformed')
    await assertRefused(f.verifier, 'Bearer ', 'malformed')
    await assertRefused(f.verifier, `Bearer ${token} ${token}`, 'malformed')
    await assertRefused(f.verifier, `Bearer ${token},Bearer ${token}`, 'malformed')
    await assertRefused(f.verifier, 'Bearer abc.def', 'malformed')
    await assertRefused(f.verifier, `Bearer ${token}.x.y`, 'malformed')
    await assertRefused(f.verifier, 'Bearer ab+c.de/f.ghi', 'malformed')
    const notJson = `${Buffer.from('not json').toString('base64url')}.e30.c2ln`
    await assertRefused(f.verifier, bearer(notJson), 'malformed')
    const noAlg = `${Buffer.from('{"typ":"JWT"}').toString('base64url')}.e30.c2ln`
    await assertRefused(f.verifier, bearer(noAlg), 'malformed')
  })

  it('refuses a really signed token larger than 8 KiB', async () => {
    const token = await f.idp.mint({ padding: 'x'.repeat(8 * 1024) })
    await assertRefused(f.verifier, bearer(token), 'too_large')
  })

  it('holds the size limit at exactly 8 KiB, counted in bytes', async () => {
    assert.equal(MAX_TOKEN_BYTES, 8192)
    const sized = (bytes: number): string => `${'a'.repeat(bytes - 4)}.b.c`
    // At the limit the size check passes and the next check (the header) refuses.
    await assertRefused(f.verifier, bearer(sized(MAX_TOKEN_BYTES)), 'malformed')
    await assertRefused(f.verifier, bearer(sized(MAX_TOKEN_BYTES + 1)), 'too_large')
    await assertRefused(f.verifier, bearer(`${'\u00e9'.repeat(MAX_TOKEN_BYTES / 2 + 1)}`), 'too_large')
    await assertRefused(f.verifier, bearer(`${'\u00e9'.repeat(MAX_TOKEN_BYTES / 2)}`), 'malformed')
    const token = await f.idp.mint({ padding: 'x'.repeat(5000) })
    assert.ok(token.length < MAX_TOKEN_BYTES, 'a large token under the limit')
    assert.equal((await f.verifier.verify(bearer(token))).subject, 'agent-1')
  })

  it('refuses a header whose alg is empty or not a string as malformed, not as a disallowed alg', async () => {
    for (const alg of ['', 42, null, ['RS256'], { name: 'RS256' }, true]) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT', kid: f.idp.currentKid })).toString('base64url')
      const payload = Buffer.from(JSON.stringify({ sub: 'agent-1' })).toString('base64url')
      await assertRefused(f.verifier, bearer(`${header}.${payload}.c2ln`), 'malformed')
    }
  })

  it('refuses a disallowed alg in its own header check, before looking at keys or other header members', async () => {
    let lookups = 0
    const cache = createJwksCache({ issuer: f.idp.issuer, clock: f.clock, allowInsecureLoopback: true })
    const counted = createTokenVerifier({
      issuer: f.idp.issuer,
      audience: f.idp.audience,
      algorithms: ['RS256'],
      clockToleranceSeconds: 30,
      groupsClaim: 'groups',
      keys: async (header, token) => {
        lookups += 1
        return cache.getKey(header, token)
      },
      clock: f.clock,
    })
    const { privateKey } = await generateKeyPair('PS256')
    const tokens = [
      f.idp.mintUnsecured(),
      await f.idp.mint({}, { alg: 'PS256', key: privateKey }),
      await f.idp.mint({}, { alg: 'PS256', key: privateKey, header: { jku: `${f.idp.issuer}/jwks` } }),
      await f.idp.mint({}, { alg: 'HS256', key: new TextEncoder().encode('x'.repeat(32)), header: { jwk: f.idp.publicJwk() } }),
      await f.idp.mint({}, { alg: 'PS256', key: privateKey, header: { x5u: 'https://evil.example/cert.pem' } }),
    ]
    for (const token of tokens) {
      await assertRefused(counted, bearer(token), 'alg_not_allowed')
      const error: unknown = await counted.verify(bearer(token)).catch((e: unknown) => e)
      assert.ok(error instanceof AuthError, 'an AuthError')
      assert.match(error.message, /alg is not in the allowed list/)
    }
    assert.equal(lookups, 0, 'no key was looked up for a disallowed alg')
    assert.equal((await counted.verify(bearer(await f.idp.mint()))).subject, 'agent-1')
    assert.equal(lookups, 1)
  })

  it('refuses alg none, HS256 signed with the public key, and algs outside the list', async () => {
    await assertRefused(f.verifier, bearer(f.idp.mintUnsecured()), 'alg_not_allowed')
    const publicKey = await importJWK(f.idp.publicJwk(), 'RS256')
    if (publicKey instanceof Uint8Array) assert.fail('expected an RSA public key')
    const pem = await exportSPKI(publicKey)
    const withPem = await f.idp.mint({}, { alg: 'HS256', key: new TextEncoder().encode(pem) })
    await assertRefused(f.verifier, bearer(withPem), 'alg_not_allowed')
    const withJwk = await f.idp.mint({}, { alg: 'HS256', key: new TextEncoder().encode(JSON.stringify(f.idp.publicJwk())) })
    await assertRefused(f.verifier, bearer(withJwk), 'alg_not_allowed')
    for (const alg of ['RS512', 'PS256']) {
      const { privateKey } = await generateKeyPair(alg)
      await assertRefused(f.verifier, bearer(await f.idp.mint({}, { alg, key: privateKey })), 'alg_not_allowed')
    }
  })

  it('refuses tokens that name their own key (jku, jwk, x5u, x5c)', async () => {
    const jwk = f.idp.publicJwk()
    for (const header of [
      { jku: `${f.idp.issuer}/jwks` },
      { jwk: { kty: jwk.kty, n: jwk.n, e: jwk.e } },
      { x5u: 'https://evil.example/cert.pem' },
      { x5c: ['MIIB'] },
    ]) {
      await assertRefused(f.verifier, bearer(await f.idp.mint({}, { header })), 'forbidden_header')
    }
  })

  it('refuses a token signed by a key the issuer does not hold', async () => {
    const { privateKey } = await generateKeyPair('RS256')
    const forged = await f.idp.mint({}, { kid: f.idp.currentKid, key: privateKey })
    await assertRefused(f.verifier, bearer(forged), 'bad_signature')
  })

  it('refuses an unknown kid and a missing kid that matches no single key', async () => {
    await assertRefused(f.verifier, bearer(await f.idp.mint({}, { kid: 'not-a-key' })), 'unknown_key')
    // The only RS256 key would match a kid-less token; an EC-signed one cannot.
    const { privateKey } = await generateKeyPair('ES256')
    const ec = createTokenVerifier({
      issuer: f.idp.issuer,
      audience: f.idp.audience,
      algorithms: ['ES256'],
      clockToleranceSeconds: 0,
      groupsClaim: 'groups',
      keys: createJwksCache({ issuer: f.idp.issuer, clock: f.clock, allowInsecureLoopback: true }).getKey,
      clock: f.clock,
    })
    const token = await f.idp.mint({}, { alg: 'ES256', key: privateKey, header: { kid: undefined } })
    await assertRefused(ec, bearer(token), 'unknown_key')
  })

  it('refuses a wrong or missing issuer', async () => {
    await assertRefused(f.verifier, bearer(await f.idp.mint({ iss: 'https://evil.example' })), 'wrong_issuer')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ iss: `${f.idp.issuer}/` })), 'wrong_issuer')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ iss: undefined })), 'wrong_issuer')
  })

  it('refuses a wrong or missing audience', async () => {
    await assertRefused(f.verifier, bearer(await f.idp.mint({ aud: 'https://other.example/mcp' })), 'wrong_audience')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ aud: ['a', 'b'] })), 'wrong_audience')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ aud: undefined })), 'wrong_audience')
  })

  it('refuses expired tokens beyond the tolerance and tokens without exp', async () => {
    await assertRefused(f.verifier, bearer(await f.idp.mint({ exp: now() - 31 })), 'expired')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ exp: undefined })), 'missing_claim')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ exp: String(now() + 60) })), 'invalid_claims')
  })

  it('refuses nbf or iat in the future beyond the tolerance', async () => {
    await assertRefused(f.verifier, bearer(await f.idp.mint({ nbf: now() + 31 })), 'not_yet_valid')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ iat: now() + 31 })), 'not_yet_valid')
  })

  it('refuses a missing, empty or non-string sub', async () => {
    await assertRefused(f.verifier, bearer(await f.idp.mint({ sub: undefined })), 'missing_claim')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ sub: '' })), 'invalid_claims')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ sub: 42 })), 'invalid_claims')
  })

  it('refuses a groups claim that is not a string or a string array', async () => {
    for (const groups of [42, null, { a: 'b' }, ['ok', 7], true]) {
      await assertRefused(f.verifier, bearer(await f.idp.mint({ groups })), 'invalid_claims')
    }
  })
})

describe('createTokenVerifier with maxTokenAgeSeconds', () => {
  let f: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp(['RS256'], { maxTokenAgeSeconds: 600 })
    teardown.add(() => f.idp.stop())
  })
  after(() => teardown.run())

  it('refuses a token older than the maximum age, one without iat, and one from the future', async () => {
    const old = await f.idp.mint({ iat: now() - 631, exp: now() + 300 })
    await assertRefused(f.verifier, `Bearer ${old}`, 'too_old')
    await assertRefused(f.verifier, `Bearer ${await f.idp.mint({ iat: undefined })}`, 'missing_claim')
    await assertRefused(f.verifier, `Bearer ${await f.idp.mint({ iat: now() + 31 })}`, 'not_yet_valid')
  })

  it('accepts a token within the maximum age', async () => {
    const principal = await f.verifier.verify(`Bearer ${await f.idp.mint({ iat: now() - 600 })}`)
    assert.equal(principal.subject, 'agent-1')
  })
})

describe('createTokenVerifier test set-up', () => {
  it('stops its issuer when the verifier refuses the options, so nothing keeps the process alive', async () => {
    const servers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length
    const listening = servers()
    // Were the options accepted, stop the issuer here so the failure cannot hang the run instead.
    const outcome = await setUp(['RS256'], { maxTokenAgeSeconds: 0 }).then(
      async (f) => f.idp.stop().then(() => 'built'),
      (error: unknown) => error,
    )
    assert.ok(outcome instanceof TypeError, `expected a TypeError, got ${String(outcome)}`)
    assert.equal(servers(), listening)
  })
})
