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
    assert.equal(checks.filter((c) => c.status !== 'PASS').length, 0)
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
