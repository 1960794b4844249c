import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AUTH_FAILURE_DESCRIPTIONS, bearerChallenge } from '../../src/auth/challenge.js'
import { AuthError, type AuthFailure } from '../../src/errors.js'
import { refusalClass } from '../../src/posture/probe-token-profile.js'

const META = 'https://airlock.example/.well-known/oauth-protected-resource/mcp'

describe('refusalClass', () => {
  it('reads back every class from the challenge the gateway itself builds', () => {
    const failures = Object.keys(AUTH_FAILURE_DESCRIPTIONS).filter((name): name is AuthFailure => Object.hasOwn(AUTH_FAILURE_DESCRIPTIONS, name) && name !== 'missing')
    assert.equal(failures.length, 21)
    for (const failure of failures) {
      const header = bearerChallenge({ resourceMetadataUrl: META, error: new AuthError('AUTH_INVALID', failure, 'x') })
      assert.equal(refusalClass(header), failure)
    }
  })

  const TABLE: ReadonlyArray<[header: string | null, expected: AuthFailure | undefined]> = [
    [`Bearer resource_metadata="${META}", error="invalid_token", error_description="The token type is not accepted"`, 'wrong_token_type'],
    [`Bearer error="invalid_token", error_description="The token signature is invalid"`, 'bad_signature'],
    [`Bearer resource_metadata="${META}", scope="mcp", error="insufficient_scope", error_description="The token lacks a scope this request needs"`, 'insufficient_scope'],
    ['Bearer realm="airlock", error="invalid_token"', undefined],
    ['Bearer error="invalid_token", error_description="token type not accepted"', undefined],
    ['Bearer error_description="The token type is not accepted."', undefined],
    [null, undefined],
  ]
  for (const [header, expected] of TABLE) it(String(header), () => assert.equal(refusalClass(header), expected))
})
