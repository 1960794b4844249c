import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { AuthError, type AuthFailure } from '../../src/errors.js'
import { createTeardown } from '../support/teardown.js'
import { assertRefused, now, setUp, type Fixture } from './verifier-fixture.js'

// The token profile through the real verifier, with tokens really signed by the test issuer.
const bearer = (token: string): string => `Bearer ${token}`
const DAY = 86_400

describe('token types (typ) with the default profile', () => {
  let f: Fixture
  let strict: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp()
    teardown.add(() => f.idp.stop())
    strict = await setUp(['RS256'], { profile: { tokenTypes: ['at+jwt'] } })
    teardown.add(() => strict.idp.stop())
  })
  after(() => teardown.run())

  const ACCEPTED: ReadonlyArray<[label: string, typ: unknown]> = [
    ['RFC 9068 at+jwt', 'at+jwt'],
    ['the full media type', 'application/at+jwt'],
    ['at+jwt in another case', 'Application/AT+JWT'],
    ['JWT (Entra ID, Keycloak, Auth0)', 'JWT'],
    ['jwt in lower case', 'jwt'],
    ['no typ at all (Okta, Cognito)', undefined],
  ]
  for (const [label, typ] of ACCEPTED) {
    it(`accepts ${label}`, async () => {
      const principal = await f.verifier.verify(bearer(await f.idp.mint({}, { header: { typ } })))
      assert.equal(principal.subject, 'agent-1')
    })
  }

  const REFUSED: ReadonlyArray<[label: string, typ: unknown]> = [
    ['a security event token', 'secevent+jwt'],
    ['a logout token', 'logout+jwt'],
    ['a DPoP proof', 'dpop+jwt'],
    ['a SET under its full media type', 'application/secevent+jwt'],
    ['at+jwt under another top-level type', 'text/at+jwt'],
    ['at+jwt with a media type parameter', 'application/at+jwt; charset=utf-8'],
    ['an empty typ', ''],
    ['JOSE (a JWS that is not a JWT)', 'JOSE'],
    ['a numeric typ', 42],
    ['a null typ', null],
    ['an array typ', ['at+jwt']],
  ]
  for (const [label, typ] of REFUSED) {
    it(`refuses ${label}`, async () => {
      await assertRefused(f.verifier, bearer(await f.idp.mint({}, { header: { typ } })), 'wrong_token_type')
    })
  }

  it('accepts only at+jwt, in either spelling, once configured so', async () => {
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
      assert.equal((await strict.verifier.verify(bearer(await strict.idp.mint({}, { header: { typ } })))).subject, 'agent-1', typ)
    }
    for (const typ of ['JWT', undefined, 'application/jwt', 'secevent+jwt', 'at+jwt+x']) {
      await assertRefused(strict.verifier, bearer(await strict.idp.mint({}, { header: { typ } })), 'wrong_token_type')
    }
  })
})

describe('maximum token lifetime', () => {
  let f: Fixture
  let short: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp()
    teardown.add(() => f.idp.stop())
    short = await setUp(['RS256'], { profile: { maxTokenLifetimeSeconds: 600 } })
    teardown.add(() => short.idp.stop())
  })
  after(() => teardown.run())

  const ACCEPTED: ReadonlyArray<[label: string, claims: () => Record<string, unknown>]> = [
    ['five minutes', () => ({ iat: now(), exp: now() + 300 })],
    ['exactly 24 hours', () => ({ iat: now(), exp: now() + DAY })],
    ['24 hours issued an hour ago', () => ({ iat: now() - 3600, exp: now() - 3600 + DAY })],
    ['no iat, 24 hours left', () => ({ iat: undefined, exp: now() + DAY })],
    ['no iat, 24 hours left plus the clock tolerance', () => ({ iat: undefined, exp: now() + DAY + 30 })],
  ]
  for (const [label, claims] of ACCEPTED) {
    it(`accepts ${label}`, async () => {
      assert.equal((await f.verifier.verify(bearer(await f.idp.mint(claims())))).subject, 'agent-1')
    })
  }

  const REFUSED: ReadonlyArray<[label: string, claims: () => Record<string, unknown>]> = [
    ['24 hours and a second', () => ({ iat: now(), exp: now() + DAY + 1 })],
    ['ten years', () => ({ iat: now(), exp: now() + 10 * 365 * DAY })],
    ['two days issued long ago, with a minute left', () => ({ iat: now() - 2 * DAY, exp: now() + 60 })],
    ['no iat, ten years left', () => ({ iat: undefined, exp: now() + 10 * 365 * DAY })],
    ['no iat, 24 hours left beyond the clock tolerance', () => ({ iat: undefined, exp: now() + DAY + 31 })],
    ['an iat at the epoch', () => ({ iat: 0, exp: now() + 300 })],
  ]
  for (const [label, claims] of REFUSED) {
    it(`refuses ${label}`, async () => {
      await assertRefused(f.verifier, bearer(await f.idp.mint(claims())), 'lifetime_too_long')
    })
  }

  it('holds a configured maximum to the second', async () => {
    assert.equal((await short.verifier.verify(bearer(await short.idp.mint({ exp: now() + 600 })))).subject, 'agent-1')
    await assertRefused(short.verifier, bearer(await short.idp.mint({ exp: now() + 601 })), 'lifetime_too_long')
    await assertRefused(short.verifier, bearer(await short.idp.mint({ iat: undefined, exp: now() + 631 })), 'lifetime_too_long')
  })
})

describe('allowedClients (client_id / azp)', () => {
  let f: Fixture
  let open: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp(['RS256'], { profile: { allowedClients: ['agent-app', 'ci-bot'] } })
    teardown.add(() => f.idp.stop())
    open = await setUp()
    teardown.add(() => open.idp.stop())
  })
  after(() => teardown.run())

  const ACCEPTED: ReadonlyArray<Record<string, unknown>> = [
    { client_id: 'agent-app' },
    { azp: 'ci-bot' },
    { client_id: 'agent-app', azp: 'agent-app' },
    { client_id: 'ci-bot', azp: 'agent-app' },
    { client_id: 'agent-app', cid: 'other' },
  ]
  for (const claims of ACCEPTED) {
    it(`accepts ${JSON.stringify(claims)}`, async () => {
      assert.equal((await f.verifier.verify(bearer(await f.idp.mint(claims)))).subject, 'agent-1')
    })
  }

  const REFUSED: ReadonlyArray<[claims: Record<string, unknown>, failure: AuthFailure]> = [
    [{ client_id: 'other-app' }, 'client_not_allowed'],
    [{ azp: 'other-app' }, 'client_not_allowed'],
    [{}, 'client_not_allowed'],
    [{ cid: 'agent-app' }, 'client_not_allowed'],
    [{ client_id: 'agent-app', azp: 'other-app' }, 'client_not_allowed'],
    [{ client_id: 'Agent-App' }, 'client_not_allowed'],
    [{ client_id: 'agent-app ' }, 'client_not_allowed'],
    [{ client_id: ['agent-app'] }, 'invalid_claims'],
    [{ azp: 42 }, 'invalid_claims'],
  ]
  for (const [claims, failure] of REFUSED) {
    it(`refuses ${JSON.stringify(claims)} as ${failure}`, async () => {
      await assertRefused(f.verifier, bearer(await f.idp.mint(claims)), failure)
    })
  }

  it('accepts any client, or none, while allowedClients is not set', async () => {
    for (const claims of [{ client_id: 'anything' }, { azp: 42 }, {}]) {
      assert.equal((await open.verifier.verify(bearer(await open.idp.mint(claims)))).subject, 'agent-1', JSON.stringify(claims))
    }
  })
})

describe('requiredClaims (exact value or one of)', () => {
  let f: Fixture
  const teardown = createTeardown()
  const pinned = { tid: 'tenant-1', acr: ['mfa', 'phr'], email_verified: true, level: 3 }
  const good = { tid: 'tenant-1', acr: 'mfa', email_verified: true, level: 3 }
  before(async () => {
    f = await setUp(['RS256'], { profile: { requiredClaims: pinned } })
    teardown.add(() => f.idp.stop())
  })
  after(() => teardown.run())

  const ACCEPTED: ReadonlyArray<Record<string, unknown>> = [good, { ...good, acr: 'phr' }, { ...good, level: 3.0 }, { ...good, extra: 'x' }, { ...good, amr: ['mfa'] }]
  for (const claims of ACCEPTED) {
    it(`accepts ${JSON.stringify(claims)}`, async () => {
      assert.equal((await f.verifier.verify(bearer(await f.idp.mint(claims)))).subject, 'agent-1')
    })
  }

  const REFUSED: ReadonlyArray<Record<string, unknown>> = [
    { ...good, tid: undefined },
    { ...good, tid: 'tenant-2' },
    { ...good, tid: 'TENANT-1' },
    { ...good, tid: null },
    { ...good, acr: 'pwd' },
    { ...good, acr: ['mfa'] },
    { ...good, acr: undefined },
    { ...good, email_verified: 'true' },
    { ...good, email_verified: false },
    { ...good, level: '3' },
    { ...good, level: 4 },
    { ...good, tid: { id: 'tenant-1' } },
  ]
  for (const claims of REFUSED) {
    it(`refuses ${JSON.stringify(claims)}`, async () => {
      await assertRefused(f.verifier, bearer(await f.idp.mint(claims)), 'claim_mismatch')
    })
  }

  it('names the claim, never its value, in the refusal', async () => {
    const error: unknown = await f.verifier.verify(bearer(await f.idp.mint({ ...good, tid: 'tenant-secret-9' }))).catch((e: unknown) => e)
    assert.ok(error instanceof AuthError, 'an AuthError')
    assert.match(error.message, /"tid"/)
    assert.doesNotMatch(error.message, /tenant-secret-9/)
  })
})

describe('requiredScopes (403 insufficient_scope)', () => {
  let f: Fixture
  const teardown = createTeardown()
  before(async () => {
    f = await setUp(['RS256'], { profile: { requiredScopes: ['mcp', 'airlock.read'], allowedClients: ['agent-app'] } })
    teardown.add(() => f.idp.stop())
  })
  after(() => teardown.run())

  const ACCEPTED: ReadonlyArray<Record<string, unknown>> = [
    { scope: 'mcp airlock.read' },
    { scope: 'openid airlock.read mcp' },
    { scp: ['mcp', 'airlock.read'] },
    { scope: 'mcp', scp: ['airlock.read'] },
    { scp: 'airlock.read mcp' },
  ]
  for (const claims of ACCEPTED) {
    it(`accepts ${JSON.stringify(claims)}`, async () => {
      const principal = await f.verifier.verify(bearer(await f.idp.mint({ client_id: 'agent-app', ...claims })))
      assert.ok(principal.scopes?.includes('mcp') === true, 'the scopes reach the principal')
    })
  }

  const REFUSED: ReadonlyArray<Record<string, unknown>> = [
    {},
    { scope: 'mcp' },
    { scope: 'MCP airlock.read' },
    { scp: ['mcp airlock.read'] },
    { scope: '' },
    { scope: 'airlock.read.all mcp' },
  ]
  for (const claims of REFUSED) {
    it(`refuses ${JSON.stringify(claims)} as 403 naming every required scope`, async () => {
      await assertRefused(f.verifier, bearer(await f.idp.mint({ client_id: 'agent-app', ...claims })), 'insufficient_scope', 'AUTH_FORBIDDEN')
      const error: unknown = await f.verifier.verify(bearer(await f.idp.mint({ client_id: 'agent-app', ...claims }))).catch((e: unknown) => e)
      assert.ok(error instanceof AuthError, 'an AuthError')
      assert.equal(error.scope, 'mcp airlock.read')
    })
  }

  it('refuses an invalid token as 401 before looking at its scopes', async () => {
    await assertRefused(f.verifier, bearer(await f.idp.mint({ client_id: 'other', scope: '' })), 'client_not_allowed')
    await assertRefused(f.verifier, bearer(await f.idp.mint({ client_id: 'agent-app', exp: now() + 2 * DAY })), 'lifetime_too_long')
  })
})
