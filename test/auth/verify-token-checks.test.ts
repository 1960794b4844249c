import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import { createManualClock } from '../../src/clock.js'
import { AuthError, type AuthFailure } from '../../src/errors.js'
import { createTokenVerifier, MAX_TOKEN_BYTES, type TokenVerifierOptions } from '../../src/auth/verify-token.js'
import type { KeyResolver } from '../../src/auth/jwks-cache.js'

// Each check of the relying party on its own, with real signed tokens and an in-memory key set
// (the issuer round trip is covered in verify-token.test.ts): the exact refusal and its message,
// so a check that is removed or loosened fails here.

const START = Date.UTC(2026, 0, 1, 12, 0, 0)
const NOW_S = Math.floor(START / 1000)
const ISSUER = 'https://idp.test'
const AUDIENCE = 'https://airlock.test/mcp'

interface Keys {
  readonly rs: CryptoKey
  readonly es: CryptoKey
  readonly resolver: KeyResolver
}

async function keys(): Promise<Keys> {
  const rs = await generateKeyPair('RS256')
  const es = await generateKeyPair('ES256')
  const jwks = createLocalJWKSet({
    keys: [
      { ...(await exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256', use: 'sig' },
    ],
  })
  return { rs: rs.privateKey, es: es.privateKey, resolver: jwks as unknown as KeyResolver }
}

const ready = keys()

async function verifier(overrides: Partial<TokenVerifierOptions> = {}) {
  const k = await ready
  return createTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['RS256', 'ES256'],
    clockToleranceSeconds: 30,
    groupsClaim: 'groups',
    keys: k.resolver,
    clock: createManualClock(START),
    ...overrides,
  })
}

interface MintOptions {
  readonly alg?: 'RS256' | 'ES256'
  readonly header?: Record<string, unknown>
  readonly omit?: readonly string[]
}

async function mint(claims: JWTPayload = {}, options: MintOptions = {}): Promise<string> {
  const k = await ready
  const alg = options.alg ?? 'RS256'
  const payload: JWTPayload = { iss: ISSUER, aud: AUDIENCE, sub: 'agent-1', exp: NOW_S + 600, iat: NOW_S - 10, groups: ['ops'], ...claims }
  for (const name of options.omit ?? []) delete payload[name]
  return new SignJWT(payload)
    .setProtectedHeader({ alg, kid: alg === 'RS256' ? 'rs' : 'es', typ: 'at+jwt', ...options.header })
    .sign(alg === 'RS256' ? k.rs : k.es)
}

/** A compact token with this header and payload and a garbage signature. */
function forged(header: unknown, payload: unknown = { sub: 'agent-1' }): string {
  const part = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(payload)}.c2ln`
}

async function refused(header: string | undefined, failure: AuthFailure, message: string | RegExp, overrides: Partial<TokenVerifierOptions> = {}): Promise<void> {
  const v = await verifier(overrides)
  const error: unknown = await v.verify(header).then(
    (principal) => assert.fail(`accepted as ${JSON.stringify(principal)}; expected ${failure}`),
    (rejection: unknown) => rejection,
  )
  assert.ok(error instanceof AuthError, `expected AuthError, got ${String(error)}`)
  assert.equal(error.failure, failure, error.message)
  assert.equal(error.code, failure === 'missing' ? 'AUTH_MISSING' : 'AUTH_INVALID')
  if (typeof message === 'string') assert.equal(error.message, message)
  else assert.match(error.message, message)
}

describe('verify: the Authorization header', () => {
  it('refuses no credentials as AUTH_MISSING', async () => {
    for (const header of [undefined, '', '   ', '\t']) await refused(header, 'missing', 'no Authorization header')
  })
  it('refuses other schemes and a bare token as AUTH_MISSING', async () => {
    const token = await mint()
    for (const header of ['Basic YTpi', `Bearertoken ${token}`, token, `Token ${token}`]) {
      await refused(header, 'missing', 'Authorization header does not use the Bearer scheme')
    }
  })
  it('takes the scheme in any case and skips extra spaces before the token', async () => {
    const token = await mint()
    const v = await verifier()
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `bEaReR    ${token}`]) {
      assert.equal((await v.verify(header)).subject, 'agent-1', header.slice(0, 12))
    }
  })
  const malformed: [name: string, header: () => Promise<string> | string, message: string][] = [
    ['scheme alone', () => 'Bearer', 'bearer token refused (malformed): Bearer scheme without a token'],
    ['scheme and spaces', () => 'Bearer   ', 'bearer token refused (malformed): Bearer scheme without a token'],
    ['two tokens', async () => `Bearer ${await mint()} ${await mint()}`, 'bearer token refused (malformed): more than one credential in the Authorization header'],
    ['a tab inside', async () => `Bearer ${await mint()}\tx`, 'bearer token refused (malformed): more than one credential in the Authorization header'],
    ['a trailing newline', async () => `Bearer ${await mint()}\n`, 'bearer token refused (malformed): more than one credential in the Authorization header'],
    ['two segments', () => 'Bearer abc.def', 'bearer token refused (malformed): not a compact JWS'],
    ['four segments', async () => `Bearer ${await mint()}.x`, 'bearer token refused (malformed): not a compact JWS'],
    ['a character outside base64url first', async () => `Bearer +${await mint()}`, 'bearer token refused (malformed): not a compact JWS'],
    ['a character outside base64url last', async () => `Bearer ${await mint()}=`, 'bearer token refused (malformed): not a compact JWS'],
    ['a character outside base64url in the payload', () => 'Bearer abc.d+f.ghi', 'bearer token refused (malformed): not a compact JWS'],
    ['an empty header segment', () => 'Bearer .def.ghi', 'bearer token refused (malformed): not a compact JWS'],
    ['an empty payload segment', () => 'Bearer abc..ghi', 'bearer token refused (malformed): not a compact JWS'],
    ['a header that is not JSON', () => `Bearer ${forged('not json')}`, 'bearer token refused (malformed): protected header is not a JSON object'],
  ]
  for (const [name, header, message] of malformed) {
    it(`refuses ${name} as malformed`, async () => refused(await header(), 'malformed', message))
  }
  it('holds the size limit at exactly 8 KiB of bytes', async () => {
    assert.equal(MAX_TOKEN_BYTES, 8192)
    const sized = (bytes: number) => `Bearer ${'a'.repeat(bytes - 4)}.b.c`
    // At the limit the size check passes and the header check refuses.
    await refused(sized(MAX_TOKEN_BYTES), 'malformed', 'bearer token refused (malformed): protected header is not a JSON object')
    await refused(sized(MAX_TOKEN_BYTES + 1), 'too_large', 'bearer token refused (too_large): token exceeds 8192 bytes')
    await refused(`Bearer ${'\u00e9'.repeat(MAX_TOKEN_BYTES / 2 + 1)}`, 'too_large', 'bearer token refused (too_large): token exceeds 8192 bytes')
  })
})

describe('verify: the protected header', () => {
  it('refuses an alg that is missing, empty or not a string, as malformed', async () => {
    for (const alg of [undefined, '', 0, null, ['RS256'], { RS256: true }]) {
      await refused(`Bearer ${forged({ alg, kid: 'rs' })}`, 'malformed', 'bearer token refused (malformed): protected header has no alg')
    }
  })
  it('refuses an alg outside the configured list itself, before jose sees the token', async () => {
    const message = 'bearer token refused (alg_not_allowed): alg is not in the allowed list'
    for (const alg of ['none', 'HS256', 'RS512', 'rs256', 'RS256 ']) {
      await refused(`Bearer ${forged({ alg, kid: 'rs' })}`, 'alg_not_allowed', message)
    }
    // A genuinely signed ES256 token, when only RS256 is configured.
    await refused(`Bearer ${await mint({}, { alg: 'ES256' })}`, 'alg_not_allowed', message, { algorithms: ['RS256'] })
  })
  for (const name of ['jku', 'x5u', 'jwk', 'x5c'] as const) {
    it(`refuses a signed token whose header carries ${name}`, async () => {
      const value = name === 'x5c' ? ['MIIB'] : name === 'jwk' ? { kty: 'RSA' } : 'https://evil.test/keys'
      const token = await mint({}, { header: { [name]: value } })
      await refused(`Bearer ${token}`, 'forbidden_header', `bearer token refused (forbidden_header): protected header carries ${name}`)
    })
  }
  it('names every key-pointing header present', async () => {
    await refused(`Bearer ${forged({ alg: 'RS256', jku: 'x', x5c: [], kid: 'rs' })}`, 'forbidden_header', 'bearer token refused (forbidden_header): protected header carries jku, x5c')
    // A null value still counts: the header is present.
    await refused(`Bearer ${forged({ alg: 'RS256', x5u: null })}`, 'forbidden_header', 'bearer token refused (forbidden_header): protected header carries x5u')
  })
})

describe('verify: signature and registered claims', () => {
  const cases: [name: string, token: () => Promise<string>, failure: AuthFailure, overrides?: Partial<TokenVerifierOptions>][] = [
    ['another issuer', () => mint({ iss: 'https://evil.test' }), 'wrong_issuer'],
    ['another audience', () => mint({ aud: 'https://other.test/mcp' }), 'wrong_audience'],
    ['no exp', () => mint({}, { omit: ['exp'] }), 'missing_claim'],
    ['no sub', () => mint({}, { omit: ['sub'] }), 'missing_claim'],
    ['expired beyond the tolerance', () => mint({ exp: NOW_S - 31 }), 'expired'],
    ['expired with no tolerance', () => mint({ exp: NOW_S - 1 }), 'expired', { clockToleranceSeconds: 0 }],
    ['not before, beyond the tolerance', () => mint({ nbf: NOW_S + 31 }), 'not_yet_valid'],
    ['issued beyond the tolerance in the future', () => mint({ iat: NOW_S + 31 }), 'not_yet_valid'],
    ['issued in the future with no tolerance', () => mint({ iat: NOW_S + 1 }), 'not_yet_valid', { clockToleranceSeconds: 0 }],
    ['older than maxTokenAgeSeconds', () => mint({ iat: NOW_S - 301 }), 'too_old', { maxTokenAgeSeconds: 300, clockToleranceSeconds: 0 }],
    ['older than maxTokenAgeSeconds and the tolerance', () => mint({ iat: NOW_S - 331 }), 'too_old', { maxTokenAgeSeconds: 300 }],
    ['no iat when maxTokenAgeSeconds is set', () => mint({}, { omit: ['iat'] }), 'missing_claim', { maxTokenAgeSeconds: 300 }],
    ['a tampered payload', async () => {
      const [h, , s] = (await mint()).split('.')
      return `${h}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: NOW_S + 600 })).toString('base64url')}.${s}`
    }, 'bad_signature'],
    ['an unknown kid', () => mint({}, { header: { kid: 'other' } }), 'unknown_key'],
  ]
  for (const [name, token, failure, overrides] of cases) {
    it(`refuses ${name} (${failure})`, async () => refused(`Bearer ${await token()}`, failure, new RegExp(`^bearer token refused \\(${failure}\\): `), overrides))
  }
  it('refuses the "iat in the future" check itself with its own message', async () => {
    // jose checks iat only with maxTokenAge; this refusal is the verifier's own.
    await refused(`Bearer ${await mint({ iat: NOW_S + 31 })}`, 'not_yet_valid', 'bearer token refused (not_yet_valid): "iat" claim is in the future')
  })
  const accepted: [name: string, claims: JWTPayload, overrides?: Partial<TokenVerifierOptions>][] = [
    ['expired within the tolerance', { exp: NOW_S - 29 }],
    ['issued at the edge of the tolerance', { iat: NOW_S + 30 }],
    ['issued now with no tolerance', { iat: NOW_S }, { clockToleranceSeconds: 0 }],
    ['not before, within the tolerance', { nbf: NOW_S + 29 }],
    ['exactly maxTokenAgeSeconds old', { iat: NOW_S - 300 }, { maxTokenAgeSeconds: 300, clockToleranceSeconds: 0 }],
    // Old, yet within the maximum lifetime (exp − iat ≤ 24 h by default): only maxTokenAgeSeconds would refuse it.
    ['an iat 22 hours old without maxTokenAgeSeconds', { iat: NOW_S - 80_000 }],
    ['an audience list containing this resource', { aud: ['https://other.test', AUDIENCE] }],
  ]
  for (const [name, claims, overrides] of accepted) {
    it(`accepts ${name}`, async () => {
      const v = await verifier(overrides)
      assert.equal((await v.verify(`Bearer ${await mint(claims)}`)).subject, 'agent-1')
    })
  }
  it('judges time by the injected clock, not the system clock', async () => {
    const v = await verifier({ clock: createManualClock(START + 3_600_000) })
    await assert.rejects(v.verify(`Bearer ${await mint()}`), (e: unknown) => e instanceof AuthError && e.failure === 'expired')
  })
})

describe('verify: the key resolver failing', () => {
  it('passes an AuthError from the key resolver through unchanged (an issuer outage stays one)', async () => {
    const outage = new AuthError('AUTH_INVALID', 'issuer_unavailable', 'keys unavailable', { retryAfterSeconds: 7 })
    const v = await verifier({ keys: async () => Promise.reject(outage) })
    await assert.rejects(v.verify(`Bearer ${await mint()}`), (e: unknown) => e === outage)
  })
  it('refuses as malformed when the resolver throws something that is not an Error', async () => {
    const v = await verifier({ keys: async () => Promise.reject('no keys') })
    await assert.rejects(v.verify(`Bearer ${await mint()}`), (e: unknown) => e instanceof AuthError && e.failure === 'malformed' && e.message === 'bearer token refused (malformed): verification failed')
  })
})

describe('verify: claim types', () => {
  const cases: [name: string, claims: JWTPayload, failure: AuthFailure, message: string | RegExp][] = [
    ['an empty sub', { sub: '' }, 'invalid_claims', 'bearer token refused (invalid_claims): sub, iss, exp, iat or auth_time has the wrong type'],
    ['groups as a number', { groups: 5 }, 'invalid_claims', 'bearer token refused (invalid_claims): groups claim is neither a string nor an array of strings'],
    ['groups with a number inside', { groups: ['ops', 1] }, 'invalid_claims', 'bearer token refused (invalid_claims): groups claim is neither a string nor an array of strings'],
  ]
  for (const [name, claims, failure, message] of cases) {
    it(`refuses ${name}`, async () => refused(`Bearer ${await mint(claims)}`, failure, message))
  }
})

describe('verify: the principal', () => {
  it('carries every identity claim that is a string, and iat as issuedAt', async () => {
    const v = await verifier()
    const principal = await v.verify(`Bearer ${await mint({ email: 'a@example.com', name: 'Agent One', jti: 'tok-1', groups: ['ops', 'dba', 'ops'] })}`)
    assert.deepEqual(principal, {
      issuer: ISSUER,
      subject: 'agent-1',
      groups: ['ops', 'dba'],
      expiresAt: NOW_S + 600,
      issuedAt: NOW_S - 10,
      email: 'a@example.com',
      name: 'Agent One',
      tokenId: 'tok-1',
    })
  })
  it('leaves out claims that are absent or not strings', async () => {
    const v = await verifier()
    const principal = await v.verify(`Bearer ${await mint({ email: 1, name: ['x'], jti: 42 as unknown as string }, { omit: ['iat', 'groups'] })}`)
    assert.deepEqual(principal, { issuer: ISSUER, subject: 'agent-1', groups: [], expiresAt: NOW_S + 600 })
  })
  it('reads the groups claim the options name', async () => {
    const v = await verifier({ groupsClaim: 'realm_access.roles' })
    const principal = await v.verify(`Bearer ${await mint({ realm_access: { roles: ['admin'] } })}`)
    assert.deepEqual(principal.groups, ['admin'])
  })
})

describe('createTokenVerifier options', () => {
  const bad: [name: string, overrides: Partial<TokenVerifierOptions>, message: string][] = [
    ['no algorithms', { algorithms: [] }, 'algorithms must not be empty'],
    ['HS256', { algorithms: ['HS256' as 'RS256'] }, 'algorithm "HS256" cannot be allowed: only asymmetric JWS algorithms are'],
    ['none among good ones', { algorithms: ['RS256', 'none' as 'RS256'] }, 'algorithm "none" cannot be allowed: only asymmetric JWS algorithms are'],
    ['a negative tolerance', { clockToleranceSeconds: -1 }, 'clockToleranceSeconds must be >= 0'],
    ['a NaN tolerance', { clockToleranceSeconds: Number.NaN }, 'clockToleranceSeconds must be >= 0'],
    ['an infinite tolerance', { clockToleranceSeconds: Number.POSITIVE_INFINITY }, 'clockToleranceSeconds must be >= 0'],
    ['a zero max age', { maxTokenAgeSeconds: 0 }, 'maxTokenAgeSeconds must be > 0'],
    ['a negative max age', { maxTokenAgeSeconds: -5 }, 'maxTokenAgeSeconds must be > 0'],
    ['a NaN max age', { maxTokenAgeSeconds: Number.NaN }, 'maxTokenAgeSeconds must be > 0'],
    ['an infinite max age', { maxTokenAgeSeconds: Number.POSITIVE_INFINITY }, 'maxTokenAgeSeconds must be > 0'],
    ['an empty groups claim', { groupsClaim: '' }, 'groupsClaim must not be empty'],
  ]
  for (const [name, overrides, message] of bad) {
    it(`refuses ${name}`, async () => {
      await assert.rejects(verifier(overrides), (e: unknown) => e instanceof TypeError && e.message === message)
    })
  }
  it('accepts the edges: zero tolerance, a one-second max age', async () => {
    await verifier({ clockToleranceSeconds: 0 })
    const v = await verifier({ maxTokenAgeSeconds: 1 })
    assert.equal((await v.verify(`Bearer ${await mint({ iat: NOW_S })}`)).subject, 'agent-1')
  })
})
