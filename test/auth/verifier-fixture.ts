import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { createManualClock, type ManualClock } from '../../src/clock.js'
import { AuthError, type AuthErrorCode, type AuthFailure } from '../../src/errors.js'
import { createJwksCache } from '../../src/auth/jwks-cache.js'
import { createTokenVerifier, type TokenVerifierOptions } from '../../src/auth/verify-token.js'
import { startTestIssuer, type TestIssuer, type TestIssuerOptions, type TestKeyAlg } from '../support/test-issuer.js'

export const START = Date.UTC(2026, 0, 1, 12, 0, 0)

export interface Fixture {
  readonly clock: ManualClock
  readonly idp: TestIssuer
  readonly verifier: ReturnType<typeof createTokenVerifier>
}

/** Starts a test issuer and a verifier for it; stops the issuer again if the verifier cannot be built. */
export async function setUp(
  algs: readonly TestKeyAlg[] = ['RS256'],
  overrides: Partial<TokenVerifierOptions> = {},
  issuerOptions: Omit<TestIssuerOptions, 'clock' | 'algs'> = {},
): Promise<Fixture> {
  const clock = createManualClock(START)
  const idp = await startTestIssuer({ ...issuerOptions, clock, algs })
  try {
    const cache = createJwksCache({ issuer: idp.issuer, clock, allowInsecureLoopback: true })
    const verifier = createTokenVerifier({
      issuer: idp.issuer,
      audience: idp.audience,
      algorithms: ['RS256'],
      clockToleranceSeconds: 30,
      groupsClaim: 'groups',
      keys: cache.getKey,
      clock,
      ...overrides,
    })
    return { clock, idp, verifier }
  } catch (error) {
    // The issuer is already listening: a verifier that refuses its options must not leave it running.
    await idp.stop()
    throw error
  }
}

/** Asserts the refusal class and that nothing of the token leaks into the error. */
export async function assertRefused(
  verifier: Fixture['verifier'],
  header: string | undefined,
  failure: AuthFailure,
  code: AuthErrorCode = 'AUTH_INVALID',
): Promise<void> {
  const error: unknown = await verifier.verify(header).then(
    () => assert.fail(`expected a refusal (${failure})`),
    (rejection: unknown) => rejection,
  )
  assert.ok(error instanceof AuthError, `expected AuthError, got ${inspect(error)}`)
  assert.equal(error.failure, failure, error.message)
  assert.equal(error.code, code)
  assert.match(error.message, new RegExp(failure === 'missing' ? 'Authorization' : `\\(${failure}\\)`))
  const rendered = inspect(error, { depth: 20 })
  for (const part of (header ?? '').replace(/^\S+ +/, '').split('.')) {
    if (part.length >= 16) assert.ok(!rendered.includes(part), 'the error must not contain the token')
  }
}

export const now = (): number => Math.floor(START / 1000)

