import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gatewayConfigSchema } from '../src/config.js'
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, DEFAULT_TOKEN_TYPES, normalizeTokenType } from '../src/token-profile-defaults.js'

describe('normalizeTokenType (RFC 7515 §4.1.9)', () => {
  const TABLE: ReadonlyArray<[typ: string, normalized: string]> = [
    ['at+jwt', 'at+jwt'],
    ['application/at+jwt', 'at+jwt'],
    ['APPLICATION/AT+JWT', 'at+jwt'],
    ['JWT', 'jwt'],
    ['text/at+jwt', 'text/at+jwt'],
    ['application/text/at+jwt', 'application/text/at+jwt'],
    ['application/', 'application/'],
  ]
  for (const [typ, normalized] of TABLE) it(`${typ} → ${normalized}`, () => assert.equal(normalizeTokenType(typ), normalized))
})

// Each key on its own, so that no other key's error can make a refusal pass.
const shape = gatewayConfigSchema.shape

describe('token profile config keys', () => {
  it('defaults: at+jwt, JWT or no typ; 24 hours; any client; no scope or claim pinned', () => {
    assert.deepEqual(shape.tokenTypes.parse(undefined), ['at+jwt', 'JWT', null])
    assert.deepEqual(DEFAULT_TOKEN_TYPES, ['at+jwt', 'JWT', null])
    assert.equal(shape.maxTokenLifetimeSeconds.parse(undefined), 86_400)
    assert.equal(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, 86_400)
    assert.deepEqual(shape.allowedClients.parse(undefined), [])
    assert.deepEqual(shape.requiredScopes.parse(undefined), [])
    assert.deepEqual(shape.scopesSupported.parse(undefined), [])
    assert.deepEqual(shape.requiredClaims.parse(undefined), {})
  })

  const ACCEPTED: ReadonlyArray<[key: keyof typeof shape, value: unknown]> = [
    ['tokenTypes', ['at+jwt']],
    ['tokenTypes', ['application/at+jwt', null]],
    ['maxTokenLifetimeSeconds', 3600],
    ['allowedClients', ['0oa1b2c3', 'spiffe://example.org/agent']],
    ['requiredScopes', ['mcp', 'api://airlock/.default']],
    ['scopesSupported', ['mcp', 'api://airlock/mcp']],
    ['requiredClaims', { tid: '72f988bf', acr: ['mfa', 'phr'], email_verified: true, level: 2 }],
  ]
  for (const [key, value] of ACCEPTED) {
    it(`accepts ${key}: ${JSON.stringify(value)}`, () => {
      const parsed = shape[key].safeParse(value)
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message)
    })
  }

  const REFUSED: ReadonlyArray<[key: keyof typeof shape, value: unknown]> = [
    ['tokenTypes', []],
    ['tokenTypes', ['']],
    ['tokenTypes', ['at+jwt; charset=utf-8']],
    ['tokenTypes', ['a/b/c']],
    ['tokenTypes', [42]],
    ['maxTokenLifetimeSeconds', 0],
    ['maxTokenLifetimeSeconds', 59],
    ['maxTokenLifetimeSeconds', 1.5],
    ['maxTokenLifetimeSeconds', 31_536_001],
    ['allowedClients', ['']],
    ['allowedClients', 'agent-app'],
    ['requiredScopes', ['two scopes']],
    ['requiredScopes', ['a"b']],
    ['requiredScopes', ['']],
    ['scopesSupported', ['two scopes']],
    ['scopesSupported', ['a\\b']],
    ['scopesSupported', ['']],
    ['requiredClaims', { tid: [] }],
    ['requiredClaims', { tid: null }],
    ['requiredClaims', { tid: { id: 'x' } }],
    ['requiredClaims', { acr: [['mfa']] }],
    ['requiredClaims', { '': 'x' }],
  ]
  for (const [key, value] of REFUSED) {
    it(`refuses ${key}: ${JSON.stringify(value)}`, () => {
      assert.equal(shape[key].safeParse(value).success, false)
    })
  }
})
