import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { probeGateway } from '../../src/posture/probe-gateway.js'
import type { PostureCheck } from '../../src/posture/posture-check.js'
import { startE2E, type E2E } from '../e2e/support/start-e2e.js'

const NEED_SIGNING_KEY = ['gateway.token-lifetime', 'gateway.client-pinning', 'gateway.required-claims']

// The probes agree with the real gateway: everything it must refuse is refused, MCP works with a good token.
describe('probeGateway against the real gateway', () => {
  let e2e: E2E
  let checks: PostureCheck[]
  before(async () => {
    e2e = await startE2E()
    const now = Math.floor(e2e.clock.now() / 1000)
    checks = await probeGateway({
      mcpUrl: e2e.gateway.resource,
      clock: e2e.clock,
      token: await e2e.token('alice', ['dba']),
      expiredToken: await e2e.token('alice', ['dba'], { iat: now - 600, exp: now - 120 }),
      wrongAudienceToken: await e2e.issuer.mint({ sub: 'alice', aud: 'https://other.example/mcp' }),
    })
  })
  after(() => e2e.close())

  it('passes every probe it can run without a signing key', () => {
    assert.deepEqual(
      checks.filter((c) => c.status !== 'PASS').map((c) => [c.id, c.status]),
      NEED_SIGNING_KEY.map((id) => [id, 'WARN']),
    )
    for (const id of NEED_SIGNING_KEY) assert.match(checks.find((c) => c.id === id)?.summary ?? '', /not probed: give --signing-key/)
    assert.deepEqual(checks.map((c) => c.id), [
      'gateway.no-token',
      'gateway.resource-metadata',
      'gateway.garbage-token',
      'gateway.alg-none',
      'gateway.hs256-public-key',
      'gateway.unknown-key',
      'gateway.expired-token',
      'gateway.wrong-audience',
      'gateway.token-type',
      'gateway.alg-substitution',
      ...NEED_SIGNING_KEY,
      'gateway.foreign-origin',
      'gateway.valid-token',
    ])
  })

  it('confirms typ and algorithm checks from the refusal class, with a fresh key bearing the issuer kid', () => {
    assert.match(checks.find((c) => c.id === 'gateway.token-type')?.summary ?? '', /refused \(wrong_token_type\)/)
    assert.match(checks.find((c) => c.id === 'gateway.alg-substitution')?.summary ?? '', /under PS256, RS512: refused \(alg_not_declared\)/)
  })

  it("keyed the algorithm-confusion token with the issuer's real public key", () => {
    assert.doesNotMatch(checks.find((c) => c.id === 'gateway.hs256-public-key')?.summary ?? '', /fresh key/)
  })
})
