import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createManualClock } from '../../src/clock.js'
import { createJwksCache } from '../../src/auth/jwks-cache.js'
import { createTokenVerifier } from '../../src/auth/verify-token.js'
import { AuthError } from '../../src/errors.js'
import { createTeardown } from '../support/teardown.js'
import { assertRefused, now, setUp, START, type Fixture } from './verifier-fixture.js'

describe('createTokenVerifier accepts', () => {
  let f: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp(['RS256'], { groupsClaim: 'realm_access.roles' })
    teardown.add(() => f.idp.stop())
  })
  after(() => teardown.run())

  it('returns the principal with email, name, issue time, expiry and jti', async () => {
    const token = await f.idp.mint({ email: 'a@example.com', name: 'Agent', jti: 'tok-1', realm_access: { roles: ['dba', 'ops'] } })
    const principal = await f.verifier.verify(`Bearer ${token}`)
    assert.deepEqual(principal, {
      issuer: f.idp.issuer,
      subject: 'agent-1',
      groups: ['dba', 'ops'],
      expiresAt: now() + 300,
      issuedAt: now(),
      email: 'a@example.com',
      name: 'Agent',
      tokenId: 'tok-1',
    })
  })

  it('accepts an audience array and a lower-case scheme; omits non-string email', async () => {
    const token = await f.idp.mint({ aud: ['https://other.example', f.idp.audience], email: 7, jti: undefined })
    const principal = await f.verifier.verify(`bearer ${token}`)
    assert.equal(principal.email, undefined)
    assert.equal(principal.tokenId, undefined)
    const noIat = await f.verifier.verify(`Bearer ${await f.idp.mint({ iat: undefined })}`)
    assert.equal(noIat.issuedAt, undefined)
    assert.deepEqual(principal.groups, [])
    await f.verifier.verify(`BEARER ${token}`)
  })

  it('leaves out a jti, email or name that is not a string', async () => {
    for (const odd of [42, ['tok-1'], { id: 'tok-1' }, true, null]) {
      const token = await f.idp.mint({ jti: odd, email: odd, name: odd, realm_access: { roles: ['dba'] } })
      const principal = await f.verifier.verify(`Bearer ${token}`)
      assert.deepEqual(Object.keys(principal).sort(), ['expiresAt', 'groups', 'issuedAt', 'issuer', 'subject'], JSON.stringify(odd))
    }
  })

  it('carries the scope and scp claims as scopes, and leaves scopes out when neither is present', async () => {
    const both = await f.verifier.verify(`Bearer ${await f.idp.mint({ scope: 'openid airlock.sql', scp: ['airlock.read'] })}`)
    assert.deepEqual(both.scopes, ['openid', 'airlock.sql', 'airlock.read'])
    const none = await f.verifier.verify(`Bearer ${await f.idp.mint({})}`)
    assert.equal(Object.hasOwn(none, 'scopes'), false)
  })

  it('refuses a token whose scope or scp claim is neither a string nor an array of strings', async () => {
    for (const claims of [{ scope: 42 }, { scope: { sql: true } }, { scp: ['a', 1] }, { scope: null }]) {
      await assertRefused(f.verifier, `Bearer ${await f.idp.mint(claims)}`, 'invalid_claims')
    }
  })

  it('names the scope claim of the wrong type in the refusal message (for the audit)', async () => {
    for (const [claims, name] of [[{ scope: 42 }, 'scope'], [{ scp: ['a', 1] }, 'scp']] as const) {
      const error: unknown = await f.verifier.verify(`Bearer ${await f.idp.mint(claims)}`).then(() => undefined, (rejection: unknown) => rejection)
      assert.ok(error instanceof AuthError, `refused: ${name}`)
      assert.equal(error.message, `bearer token refused (invalid_claims): ${name} claim is neither a string nor an array of strings`)
    }
  })

  it('carries auth_time as authTime, the sign-in a grant period is measured from, and leaves it out when absent', async () => {
    // A refreshed token has a new iat but keeps auth_time: without it the refresh would pass for a fresh sign-in.
    const refreshed = await f.verifier.verify(`Bearer ${await f.idp.mint({ auth_time: now() - 3_600, iat: now() })}`)
    assert.equal(refreshed.authTime, now() - 3_600)
    assert.equal(refreshed.issuedAt, now())
    const without = await f.verifier.verify(`Bearer ${await f.idp.mint({})}`)
    assert.equal(Object.hasOwn(without, 'authTime'), false, 'no authTime without auth_time')
  })

  it('accepts exp, nbf and iat within the clock tolerance', async () => {
    const token = await f.idp.mint({ exp: now() - 29, nbf: now() + 29, iat: now() + 29 })
    assert.equal((await f.verifier.verify(`Bearer ${token}`)).subject, 'agent-1')
  })
})

describe('createTokenVerifier groups claim lookup', () => {
  let f: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp()
    teardown.add(() => f.idp.stop())
  })
  after(() => teardown.run())
  const verifierFor = (groupsClaim: string): Fixture['verifier'] =>
    createTokenVerifier({
      issuer: f.idp.issuer,
      audience: f.idp.audience,
      algorithms: ['RS256'],
      clockToleranceSeconds: 0,
      groupsClaim,
      keys: createJwksCache({ issuer: f.idp.issuer, clock: f.clock, allowInsecureLoopback: true }).getKey,
      clock: f.clock,
    })

  it('reads a single string, a URL-like claim name and a nested path', async () => {
    assert.deepEqual((await f.verifier.verify(`Bearer ${await f.idp.mint({ groups: 'dba' })}`)).groups, ['dba'])
    const url = verifierFor('https://example.com/groups')
    const urlToken = await f.idp.mint({ 'https://example.com/groups': ['a', 'a', 'b'] })
    assert.deepEqual((await url.verify(`Bearer ${urlToken}`)).groups, ['a', 'b'])
    const nested = verifierFor('realm_access.roles')
    const missing = await f.idp.mint({ realm_access: { other: 1 } })
    assert.deepEqual((await nested.verify(`Bearer ${missing}`)).groups, [])
    await assertRefused(nested, `Bearer ${await f.idp.mint({ realm_access: { roles: 'x'.length } })}`, 'invalid_claims')
  })
})

describe('createTokenVerifier with other key types', () => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`verifies ${alg} tokens and refuses RS256 when only ${alg} is allowed`, async () => {
      const f = await setUp([alg, 'RS256'], { algorithms: [alg] })
      try {
        const principal = await f.verifier.verify(`Bearer ${await f.idp.mint({ groups: ['x'] })}`)
        assert.deepEqual(principal.groups, ['x'])
        await assertRefused(f.verifier, `Bearer ${await f.idp.mint({}, { alg: 'RS256' })}`, 'alg_not_allowed')
      } finally {
        await f.idp.stop()
      }
    })
  }
})

describe('createTokenVerifier construction', () => {
  it('throws TypeError for symmetric, none, unknown or no algorithms', async () => {
    const base = {
      issuer: 'https://idp.example',
      audience: 'https://airlock.example/mcp',
      clockToleranceSeconds: 0,
      groupsClaim: 'groups',
      keys: createJwksCache({ issuer: 'https://idp.example', clock: createManualClock(START) }).getKey,
      clock: createManualClock(START),
    }
    for (const algorithms of [['HS256'], ['none'], ['RS256', 'HS512'], [], ['XYZ']]) {
      // Configuration can come from untyped JSON: the runtime check must hold on its own.
      const fromJson: Record<string, unknown> = { algorithms }
      assert.throws(() => createTokenVerifier(Object.assign({ ...base, algorithms: ['RS256' as const] }, fromJson)), TypeError)
    }
    assert.throws(() => createTokenVerifier({ ...base, algorithms: ['RS256'], clockToleranceSeconds: -1 }), TypeError)
    for (const clockToleranceSeconds of [Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => createTokenVerifier({ ...base, algorithms: ['RS256'], clockToleranceSeconds }), TypeError)
    }
    assert.doesNotThrow(() => createTokenVerifier({ ...base, algorithms: ['RS256'], clockToleranceSeconds: 0 }))
    assert.throws(() => createTokenVerifier({ ...base, algorithms: ['RS256'], groupsClaim: '' }), TypeError)
    assert.doesNotThrow(() => createTokenVerifier({ ...base, algorithms: ['RS256', 'ES256', 'EdDSA'] }))
  })

  it('throws TypeError for a maximum token age that is not a positive finite number', () => {
    const base = {
      issuer: 'https://idp.example',
      audience: 'https://airlock.example/mcp',
      algorithms: ['RS256' as const],
      clockToleranceSeconds: 0,
      groupsClaim: 'groups',
      keys: createJwksCache({ issuer: 'https://idp.example', clock: createManualClock(START) }).getKey,
      clock: createManualClock(START),
    }
    for (const maxTokenAgeSeconds of [0, -1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => createTokenVerifier({ ...base, maxTokenAgeSeconds }), TypeError, String(maxTokenAgeSeconds))
    }
    // Configuration can come from untyped JSON: a numeric string is not a number.
    const fromJson: Record<string, unknown> = { maxTokenAgeSeconds: '600' }
    assert.throws(() => createTokenVerifier(Object.assign({ ...base }, fromJson)), TypeError)
    for (const maxTokenAgeSeconds of [0.5, 1, 600]) {
      assert.doesNotThrow(() => createTokenVerifier({ ...base, maxTokenAgeSeconds }), String(maxTokenAgeSeconds))
    }
  })
})
