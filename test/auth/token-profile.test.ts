import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createTokenProfile, type TokenProfileOptions } from '../../src/auth/token-profile.js'

const NOW = 1_800_000_000
const times = (exp: number, iat: number | undefined) => ({ exp, iat, now: NOW, toleranceSeconds: 30 })

describe('createTokenProfile construction', () => {
  // Options can come from untyped JSON: the runtime checks must hold on their own.
  const REFUSED: ReadonlyArray<Record<string, unknown>> = [
    { tokenTypes: [] },
    { tokenTypes: [''] },
    { tokenTypes: ['at+jwt; q=1'] },
    { tokenTypes: [7] },
    { maxTokenLifetimeSeconds: 0 },
    { maxTokenLifetimeSeconds: -60 },
    { maxTokenLifetimeSeconds: Number.NaN },
    { maxTokenLifetimeSeconds: Number.POSITIVE_INFINITY },
    { maxTokenLifetimeSeconds: '3600' },
    { allowedClients: [''] },
    { allowedClients: [42] },
    { requiredScopes: ['a b'] },
    { requiredScopes: [''] },
    { requiredClaims: { tid: [] } },
    { requiredClaims: { tid: null } },
    { requiredClaims: { tid: { a: 1 } } },
    { requiredClaims: { level: Number.NaN } },
  ]
  for (const options of REFUSED) {
    it(`throws TypeError for ${JSON.stringify(options)}`, () => {
      assert.throws(() => createTokenProfile(Object.assign({}, options)), TypeError)
    })
  }

  const ACCEPTED: readonly TokenProfileOptions[] = [
    {},
    { tokenTypes: [null] },
    { tokenTypes: ['application/at+jwt'], maxTokenLifetimeSeconds: 0.5 },
    { allowedClients: ['a'], requiredScopes: ['mcp'], requiredClaims: { tid: 't', acr: ['mfa'], ok: true, n: 0 } },
  ]
  for (const options of ACCEPTED) it(`builds ${JSON.stringify(options)}`, () => assert.doesNotThrow(() => createTokenProfile(options)))
})

describe('createTokenProfile checks', () => {
  it('accepts a token without typ only when null is listed', () => {
    assert.equal(createTokenProfile({ tokenTypes: ['at+jwt', null] }).checkType({ alg: 'RS256' }), undefined)
    assert.equal(createTokenProfile({ tokenTypes: ['at+jwt'] }).checkType({ alg: 'RS256' })?.failure, 'wrong_token_type')
    assert.equal(createTokenProfile({ tokenTypes: [null] }).checkType({ alg: 'RS256', typ: 'JWT' })?.failure, 'wrong_token_type')
    // A typ member that is present but undefined is not "no typ".
    assert.equal(createTokenProfile().checkType({ alg: 'RS256', typ: undefined })?.failure, 'wrong_token_type')
  })

  it('bounds exp − iat exactly, and exp − now (less the tolerance) without iat', () => {
    const profile = createTokenProfile({ maxTokenLifetimeSeconds: 600 })
    assert.equal(profile.checkClaims({}, times(NOW + 600, NOW)), undefined)
    assert.equal(profile.checkClaims({}, times(NOW + 601, NOW))?.failure, 'lifetime_too_long')
    assert.equal(profile.checkClaims({}, times(NOW + 630, undefined)), undefined)
    assert.equal(profile.checkClaims({}, times(NOW + 631, undefined))?.failure, 'lifetime_too_long')
    assert.equal(profile.checkClaims({}, times(NOW + 10, NOW - 600))?.failure, 'lifetime_too_long')
  })

  it('checks the lifetime before the client, and the client before pinned claims', () => {
    const profile = createTokenProfile({ allowedClients: ['a'], requiredClaims: { tid: 't' } })
    assert.equal(profile.checkClaims({ client_id: 'b' }, times(NOW + 2 * 86_400, NOW))?.failure, 'lifetime_too_long')
    assert.equal(profile.checkClaims({ client_id: 'b' }, times(NOW + 60, NOW))?.failure, 'client_not_allowed')
    assert.equal(profile.checkClaims({ client_id: 'a' }, times(NOW + 60, NOW))?.failure, 'claim_mismatch')
    assert.equal(profile.checkClaims({ client_id: 'a', tid: 't' }, times(NOW + 60, NOW)), undefined)
  })

  it('does not read an inherited claim as present', () => {
    const profile = createTokenProfile({ requiredClaims: { toString: 'x' }, allowedClients: ['a'] })
    assert.equal(profile.checkClaims({ client_id: 'a' }, times(NOW + 60, NOW))?.failure, 'claim_mismatch')
    assert.equal(profile.checkClaims({ azp: 'a', toString: 'x' }, times(NOW + 60, NOW)), undefined)
  })

  it('names every required scope in a 403 and nothing when they are all held', () => {
    const profile = createTokenProfile({ requiredScopes: ['b', 'a', 'b'] })
    const error = profile.checkScopes(['a'])
    assert.equal(error?.code, 'AUTH_FORBIDDEN')
    assert.equal(error?.failure, 'insufficient_scope')
    assert.equal(error?.scope, 'b a')
    assert.equal(profile.checkScopes(undefined)?.scope, 'b a')
    assert.equal(profile.checkScopes(['a', 'b', 'c']), undefined)
    assert.equal(createTokenProfile().checkScopes(undefined), undefined)
  })
})
