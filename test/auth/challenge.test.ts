import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AuthError, type AuthFailure } from '../../src/errors.js'
import { AUTH_FAILURE_DESCRIPTIONS, authFailureBody, bearerChallenge } from '../../src/auth/challenge.js'

const META = 'https://airlock.example/.well-known/oauth-protected-resource/mcp'

describe('bearerChallenge (RFC 6750 §3, RFC 9728 §5.1)', () => {
  it('names only the metadata URL when no token was sent', () => {
    assert.equal(bearerChallenge({ resourceMetadataUrl: META }), `Bearer resource_metadata="${META}"`)
    const missing = new AuthError('AUTH_MISSING', 'missing', 'no Authorization header')
    assert.equal(bearerChallenge({ resourceMetadataUrl: META, error: missing }), `Bearer resource_metadata="${META}"`)
    assert.equal(
      bearerChallenge({ resourceMetadataUrl: META, error: missing, scope: 'airlock:use' }),
      `Bearer resource_metadata="${META}", scope="airlock:use"`,
    )
  })

  it('adds invalid_token and the fixed description for a refused token', () => {
    const expired = new AuthError('AUTH_INVALID', 'expired', 'bearer token refused (expired): eyJhbGciOi...')
    assert.equal(
      bearerChallenge({ resourceMetadataUrl: META, error: expired }),
      `Bearer resource_metadata="${META}", error="invalid_token", error_description="The token has expired"`,
    )
    const unavailable = new AuthError('AUTH_INVALID', 'issuer_unavailable', 'x')
    assert.equal(
      bearerChallenge({ resourceMetadataUrl: META, error: unavailable }),
      `Bearer resource_metadata="${META}", error="invalid_token", error_description="The token issuer cannot be reached, try again later"`,
    )
  })

  it('answers a token in more than one place with invalid_request (send with 400), never invalid_token', () => {
    const twice = new AuthError('AUTH_INVALID', 'multiple_tokens', 'bearer token in more than one place (repeated_header)')
    assert.equal(
      bearerChallenge({ resourceMetadataUrl: META, error: twice }),
      `Bearer resource_metadata="${META}", error="invalid_request", error_description="Send exactly one bearer token, in one Authorization header"`,
    )
    assert.deepEqual(authFailureBody(twice), { error: 'invalid_request', error_description: 'Send exactly one bearer token, in one Authorization header' })
  })

  it('adds insufficient_scope with the scope for a forbidden request', () => {
    const forbidden = new AuthError('AUTH_FORBIDDEN', 'invalid_claims', 'no grant')
    assert.equal(
      bearerChallenge({ resourceMetadataUrl: META, error: forbidden, scope: 'airlock:use airlock:admin' }),
      `Bearer resource_metadata="${META}", scope="airlock:use airlock:admin", error="insufficient_scope", error_description="The token does not grant access to this resource"`,
    )
  })

  it('names the scopes a call needs in a step-up challenge (MCP 2026-07-28, RFC 6750 §3.1)', () => {
    const lacking = new AuthError('AUTH_FORBIDDEN', 'insufficient_scope', 'token lacks scopes for sql_query')
    assert.equal(
      bearerChallenge({ resourceMetadataUrl: META, error: lacking, scope: 'airlock.read airlock.sql' }),
      `Bearer resource_metadata="${META}", scope="airlock.read airlock.sql", error="insufficient_scope", error_description="The token lacks a scope this request needs"`,
    )
    assert.deepEqual(authFailureBody(lacking), { error: 'insufficient_scope', error_description: 'The token lacks a scope this request needs' })
    assert.ok(!bearerChallenge({ resourceMetadataUrl: META, error: lacking, scope: 'a' }).includes('sql_query'), 'the log message stays out of the challenge')
  })

  it('never echoes the log message', () => {
    const error = new AuthError('AUTH_INVALID', 'bad_signature', 'bearer token refused: SECRET-TOKEN')
    assert.ok(!bearerChallenge({ resourceMetadataUrl: META, error }).includes('SECRET'), 'expected: !bearerChallenge({ resourceMetadataUrl: META, error }).includes(\'SECRET\')')
    assert.ok(!JSON.stringify(authFailureBody(error)).includes('SECRET'), 'expected: !JSON.stringify(authFailureBody(error)).includes(\'SECRET\')')
  })

  it('throws TypeError for values that cannot be quoted safely', () => {
    assert.throws(() => bearerChallenge({ resourceMetadataUrl: 'https://a.example/"x' }), TypeError)
    assert.throws(() => bearerChallenge({ resourceMetadataUrl: 'https://a.example/\\x' }), TypeError)
    assert.throws(() => bearerChallenge({ resourceMetadataUrl: 'https://a.example/\nx' }), TypeError)
    assert.throws(() => bearerChallenge({ resourceMetadataUrl: META, scope: 'a"b' }), TypeError)
    assert.throws(() => bearerChallenge({ resourceMetadataUrl: META, scope: '' }), TypeError)
    assert.throws(() => bearerChallenge({ resourceMetadataUrl: META, scope: 'a  b' }), TypeError)
  })

  it('has a quotable one-line description for every failure class', () => {
    const failures: readonly AuthFailure[] = [
      'missing', 'malformed', 'multiple_tokens', 'too_large', 'alg_not_allowed', 'alg_not_declared', 'wrong_token_type', 'forbidden_header',
      'unknown_key', 'bad_signature', 'wrong_issuer', 'wrong_audience', 'expired', 'missing_claim', 'not_yet_valid',
      'too_old', 'invalid_claims', 'lifetime_too_long', 'client_not_allowed', 'claim_mismatch', 'issuer_unavailable',
      'insufficient_scope',
    ]
    assert.equal(Object.keys(AUTH_FAILURE_DESCRIPTIONS).length, failures.length)
    // Distinct sentences: a caller (and `airlock verify --gateway`) can tell the classes apart.
    assert.equal(new Set(Object.values(AUTH_FAILURE_DESCRIPTIONS)).size, failures.length)
    for (const failure of failures) {
      const text = AUTH_FAILURE_DESCRIPTIONS[failure]
      assert.match(text, /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/, failure)
      const error = new AuthError('AUTH_INVALID', failure, 'x')
      assert.ok(bearerChallenge({ resourceMetadataUrl: META, error }).endsWith(`error_description="${text}"`), 'expected: bearerChallenge({ resourceMetadataUrl: META, error }).endsWith(`error_description=\"${text}\"`)')
    }
  })
})

describe('authFailureBody', () => {
  it('states the class in one line', () => {
    assert.deepEqual(authFailureBody(new AuthError('AUTH_MISSING', 'missing', 'x')), {
      error: 'unauthorized',
      error_description: 'A bearer token is required',
    })
    assert.deepEqual(authFailureBody(new AuthError('AUTH_INVALID', 'wrong_audience', 'x')), {
      error: 'invalid_token',
      error_description: 'The token is not intended for this resource',
    })
    assert.deepEqual(authFailureBody(new AuthError('AUTH_FORBIDDEN', 'invalid_claims', 'x')), {
      error: 'insufficient_scope',
      error_description: 'The token does not grant access to this resource',
    })
  })
})
