import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { z } from 'zod'
import { DEV_IDENTITY_NAMES } from '../../../src/sandbox/oidc/dev-identities.js'
import { requestClientToken } from '../../../src/sandbox/oidc/request-client-token.js'
import { startDevIdp } from '../../../src/sandbox/oidc/start-dev-idp.js'
import type { DevIdp } from '../../../src/sandbox/oidc/start-dev-idp.js'
import { UpstreamError } from '../../../src/errors.js'
import { createTeardown } from '../../support/teardown.js'

const audience = 'http://127.0.0.1:8080/mcp'
const discoverySchema = z.looseObject({ issuer: z.string(), jwks_uri: z.string(), token_endpoint: z.string() })
const expectedGroups = { alice: ['dba'], bob: ['sre'], carol: ['sre-leads'], mallory: [] }

let idp: DevIdp
let discovery: z.infer<typeof discoverySchema>
const teardown = createTeardown()
before(async () => {
  idp = await startDevIdp({ host: '127.0.0.1', port: 0, audience })
  teardown.add(() => idp.close())
  const response = await fetch(`${idp.issuer}/.well-known/openid-configuration`)
  assert.equal(response.status, 200)
  discovery = discoverySchema.parse(await response.json())
})
after(() => teardown.run())

function refusedWith(detail: string) {
  return (error: unknown) => error instanceof UpstreamError && error.code === 'OIDC_INVALID' && error.publicDetail === detail
}

describe('startDevIdp', () => {
  it('serves discovery for a loopback http issuer', () => {
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(discovery.issuer, idp.issuer)
    assert.equal(discovery.token_endpoint, idp.tokenEndpoint)
    assert.equal(discovery.jwks_uri, idp.jwksUri)
    assert.deepEqual(idp.clients.map((c) => c.id), ['alice', 'bob', 'carol', 'mallory'])
  })

  it('publishes only public keys in the JWKS', async () => {
    const jwks = z.object({ keys: z.array(z.looseObject({ kty: z.string() })) }).parse(await (await fetch(discovery.jwks_uri)).json())
    assert.ok(jwks.keys.length > 0, 'jwks.keys.length > 0')
    for (const key of jwks.keys) {
      for (const secretPart of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(Object.hasOwn(key, secretPart), false)
    }
  })

  for (const user of DEV_IDENTITY_NAMES) {
    it(`mints a JWT access token for ${user} that verifies against discovery + JWKS`, async () => {
      const token = await idp.mintToken(user)
      const header = decodeProtectedHeader(token)
      assert.ok(header.alg === 'RS256' || header.alg === 'ES256', "header.alg === 'RS256' || header.alg === 'ES256'")
      assert.equal(header.typ, 'at+jwt')
      const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri))
      const { payload } = await jwtVerify(token, jwks, { issuer: discovery.issuer, audience, algorithms: ['RS256', 'ES256'], typ: 'at+jwt' })
      assert.equal(payload.sub, user)
      assert.deepEqual(payload.groups, expectedGroups[user])
      assert.equal(payload.aud, audience)
      assert.ok(typeof payload.exp === 'number' && typeof payload.iat === 'number', "typeof payload.exp === 'number' && typeof payload.iat === 'number'")
      assert.equal(payload.exp - payload.iat, 600)
    })
  }

  it('issues tokens that another audience refuses', async () => {
    const token = await idp.mintToken('alice')
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri))
    await assert.rejects(jwtVerify(token, jwks, { issuer: discovery.issuer, audience: 'http://127.0.0.1:9999/mcp' }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' })
  })

  it('refuses a wrong client secret', async () => {
    await assert.rejects(
      requestClientToken({ tokenEndpoint: idp.tokenEndpoint, clientId: 'alice', clientSecret: 'airlock-dev-secret-bob', resource: audience }),
      refusedWith('invalid_client'),
    )
  })

  it('refuses an unknown client', async () => {
    await assert.rejects(
      requestClientToken({ tokenEndpoint: idp.tokenEndpoint, clientId: 'eve', clientSecret: 'airlock-dev-secret-eve', resource: audience }),
      refusedWith('invalid_client'),
    )
  })

  it('refuses a resource other than the configured audience', async () => {
    await assert.rejects(
      requestClientToken({ tokenEndpoint: idp.tokenEndpoint, clientId: 'bob', clientSecret: 'airlock-dev-secret-bob', resource: 'http://127.0.0.1:8080/other' }),
      refusedWith('invalid_target'),
    )
  })

  it('honours a custom token lifetime and reports an unreachable endpoint after close', async () => {
    const short = await startDevIdp({ audience, accessTokenTtlSeconds: 60 })
    const token = await short.mintToken('bob')
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(short.jwksUri)), { issuer: short.issuer, audience })
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 60)
    await short.close()
    await assert.rejects(short.mintToken('bob'), (e: unknown) => e instanceof UpstreamError && e.code === 'OIDC_UNAVAILABLE')
  })

  it('rejects misuse of its options', async () => {
    await assert.rejects(startDevIdp({ audience: 'not a url' }), TypeError)
    await assert.rejects(startDevIdp({ audience, accessTokenTtlSeconds: 0 }), TypeError)
  })
})
