import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { systemClock } from '../../src/clock.js'
import { challengeResourceMetadata, probeGateway } from '../../src/posture/probe-gateway.js'
import type { PostureCheck } from '../../src/posture/posture-check.js'
import { startFixtureGateway, type FixtureGateway } from './fixture-gateway.js'

const statusOf = (checks: readonly PostureCheck[], id: string) => checks.find((c) => c.id === id)?.status

describe('probeGateway against a correct resource server', () => {
  let good: FixtureGateway
  let checks: PostureCheck[]
  before(async () => {
    good = await startFixtureGateway()
    checks = await probeGateway({
      mcpUrl: good.mcpUrl,
      clock: systemClock,
      token: await good.mint(),
      expiredToken: await good.mint({ expiresInSeconds: -120 }),
      wrongAudienceToken: await good.mint({ aud: 'https://other.example/mcp' }),
    })
  })
  after(() => good.close())

  const EXPECTED_PASS = [
    'gateway.no-token',
    'gateway.resource-metadata',
    'gateway.garbage-token',
    'gateway.alg-none',
    'gateway.hs256-public-key',
    'gateway.unknown-key',
    'gateway.expired-token',
    'gateway.wrong-audience',
    'gateway.foreign-origin',
    'gateway.valid-token',
  ]
  for (const id of EXPECTED_PASS) it(`${id} passes`, () => assert.equal(statusOf(checks, id), 'PASS', JSON.stringify(checks.find((c) => c.id === id))))

  it('used the issuer key for the algorithm-confusion probe and lists tools over MCP', () => {
    assert.doesNotMatch(checks.find((c) => c.id === 'gateway.hs256-public-key')?.summary ?? '', /fresh key/)
    assert.match(checks.find((c) => c.id === 'gateway.valid-token')?.summary ?? '', /1 tool\)/)
    assert.equal(checks.filter((c) => c.status === 'FAIL').length, 0)
  })

  it('warns, never passes, where a refusal does not say its class (another server than Airlock)', () => {
    for (const id of ['gateway.token-type', 'gateway.alg-substitution']) {
      assert.equal(statusOf(checks, id), 'WARN', id)
      assert.match(checks.find((c) => c.id === id)?.summary ?? '', /refused, but as no recognisable error_description/)
    }
    for (const id of ['gateway.token-lifetime', 'gateway.client-pinning', 'gateway.required-claims']) assert.equal(statusOf(checks, id), 'WARN', id)
  })
})

describe('probeGateway against misconfigured resource servers', () => {
  let lax: FixtureGateway
  let noMetadata: FixtureGateway
  let anyOrigin: FixtureGateway
  before(async () => {
    lax = await startFixtureGateway({ anyAudience: true })
    noMetadata = await startFixtureGateway({ noResourceMetadata: true })
    anyOrigin = await startFixtureGateway({ anyOrigin: true })
  })
  after(async () => {
    await lax.close()
    await noMetadata.close()
    await anyOrigin.close()
  })

  it('fails a server that accepts a wrong-audience token', async () => {
    const checks = await probeGateway({ mcpUrl: lax.mcpUrl, clock: systemClock, wrongAudienceToken: await lax.mint({ aud: 'https://other.example/mcp' }) })
    assert.equal(statusOf(checks, 'gateway.wrong-audience'), 'FAIL')
    assert.match(checks.find((c) => c.id === 'gateway.wrong-audience')?.summary ?? '', /expected 401, got 200/)
  })

  it('fails a 401 without resource_metadata', async () => {
    const checks = await probeGateway({ mcpUrl: noMetadata.mcpUrl, clock: systemClock })
    assert.equal(statusOf(checks, 'gateway.no-token'), 'PASS')
    assert.equal(statusOf(checks, 'gateway.resource-metadata'), 'FAIL')
  })

  it('fails a server that ignores a foreign Origin', async () => {
    const checks = await probeGateway({ mcpUrl: anyOrigin.mcpUrl, clock: systemClock, token: await anyOrigin.mint() })
    assert.equal(statusOf(checks, 'gateway.foreign-origin'), 'FAIL')
  })

  it('fails when the metadata names a different resource', async () => {
    const good = await startFixtureGateway()
    try {
      const checks = await probeGateway({ mcpUrl: good.mcpUrl.replace('/mcp', '/mcp/'), clock: systemClock })
      assert.equal(statusOf(checks, 'gateway.resource-metadata'), 'FAIL')
    } finally {
      await good.close()
    }
  })

  it('fails the handshake with a token the server refuses', async () => {
    const good = await startFixtureGateway()
    try {
      const checks = await probeGateway({ mcpUrl: good.mcpUrl, clock: systemClock, token: await good.mint({ expiresInSeconds: -120 }) })
      assert.equal(statusOf(checks, 'gateway.valid-token'), 'FAIL')
    } finally {
      await good.close()
    }
  })

  it('fails an unreachable gateway', async () => {
    const gone = await startFixtureGateway()
    const url = gone.mcpUrl
    await gone.close()
    const checks = await probeGateway({ mcpUrl: url, clock: systemClock, timeoutMs: 2000 })
    assert.deepEqual(checks.map((c) => [c.id, c.status]), [['gateway.reachable', 'FAIL']])
  })
})

describe('token-profile probes with the server\'s own key (--signing-key)', () => {
  let lax: FixtureGateway
  let strict: FixtureGateway
  before(async () => {
    lax = await startFixtureGateway({ anyRsaAlg: true })
    strict = await startFixtureGateway()
  })
  after(async () => {
    await lax.close()
    await strict.close()
  })

  it('fails a server whose RSA key verifies PS256 and RS512, that ignores typ and has no maximum lifetime', async () => {
    const checks = await probeGateway({ mcpUrl: lax.mcpUrl, clock: systemClock, token: await lax.mint(), signingKey: lax.privateJwk })
    assert.equal(statusOf(checks, 'gateway.signing-key'), 'PASS')
    for (const id of ['gateway.alg-substitution', 'gateway.token-type', 'gateway.token-lifetime']) {
      assert.equal(statusOf(checks, id), 'FAIL', id)
      assert.match(checks.find((c) => c.id === id)?.summary ?? '', /accepted \(HTTP 200\)/)
    }
    assert.match(checks.find((c) => c.id === 'gateway.alg-substitution')?.summary ?? '', /fixture-key\) under PS256, RS512/)
    assert.equal(statusOf(checks, 'gateway.client-pinning'), 'WARN')
    assert.match(checks.find((c) => c.id === 'gateway.required-claims')?.summary ?? '', /carries no claim beyond the registered ones/)
  })

  it('fails, without throwing, when the probes cannot be signed (a --token that is not a JWT, a key jose refuses)', async () => {
    for (const [token, signingKey] of [
      ['not-a-jwt', lax.privateJwk],
      [await lax.mint(), { ...lax.privateJwk, n: 'AA' }],
      [await lax.mint(), { kty: 'EC', crv: 'P-256', kid: 'k', d: 'AA', x: 'AA', y: 'AA' }],
    ] as const) {
      const checks = await probeGateway({ mcpUrl: lax.mcpUrl, clock: systemClock, token, signingKey })
      assert.equal(statusOf(checks, 'gateway.signing-key'), 'FAIL')
      assert.match(checks.find((c) => c.id === 'gateway.signing-key')?.summary ?? '', /cannot sign the token-profile probes/)
    }
  })

  it('warns, without the key, that the substitution was refused for no stated reason', async () => {
    const checks = await probeGateway({ mcpUrl: lax.mcpUrl, clock: systemClock })
    assert.equal(statusOf(checks, 'gateway.alg-substitution'), 'WARN')
  })

  it('cannot confirm the substitution on a server that refuses it without naming the class', async () => {
    const checks = await probeGateway({ mcpUrl: strict.mcpUrl, clock: systemClock, token: await strict.mint(), signingKey: strict.privateJwk })
    // Refused with a bare invalid_token: the class is unknown, so this is a WARN, not a PASS.
    assert.equal(statusOf(checks, 'gateway.alg-substitution'), 'WARN')
    assert.equal(statusOf(checks, 'gateway.token-type'), 'FAIL')
  })
})

describe('challengeResourceMetadata', () => {
  const TABLE: Array<[string | null, boolean, string | undefined]> = [
    ['Bearer resource_metadata="https://a/.well-known/oauth-protected-resource/mcp"', true, 'https://a/.well-known/oauth-protected-resource/mcp'],
    ['Bearer realm="x", error="invalid_token", resource_metadata="https://a/m"', true, 'https://a/m'],
    ['bearer', true, undefined],
    ['Basic realm="x"', false, undefined],
    ['Bearerx resource_metadata="https://a/m"', false, 'https://a/m'],
    [null, false, undefined],
  ]
  for (const [header, bearer, metadata] of TABLE) {
    it(String(header), () => assert.deepEqual(challengeResourceMetadata(header), { bearer, resourceMetadata: metadata }))
  }
})
