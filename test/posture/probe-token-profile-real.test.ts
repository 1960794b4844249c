import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import type { PostureCheck } from '../../src/posture/posture-check.js'
import { probeGateway } from '../../src/posture/probe-gateway.js'
import { startE2E, type E2E } from '../e2e/support/start-e2e.js'
import { createTeardown } from '../support/teardown.js'

// The token-profile probes against the real gateway, signed with a key its issuer publishes.
const PROFILE = ['gateway.signing-key', 'gateway.token-type', 'gateway.alg-substitution', 'gateway.token-lifetime', 'gateway.client-pinning', 'gateway.required-claims']
const conforming = { client_id: 'agent-app', tid: 'tenant-1', scope: 'mcp' }

function verdicts(checks: readonly PostureCheck[]): Record<string, string> {
  return Object.fromEntries(checks.filter((c) => PROFILE.includes(c.id)).map((c) => [c.id, c.status]))
}
const summary = (checks: readonly PostureCheck[], id: string): string => checks.find((c) => c.id === id)?.summary ?? ''

async function probe(e2e: E2E, options: { readonly signingKey?: boolean; readonly claims?: Record<string, unknown> } = {}): Promise<PostureCheck[]> {
  return probeGateway({
    mcpUrl: e2e.gateway.resource,
    clock: e2e.clock,
    token: await e2e.token('alice', ['dba'], options.claims ?? conforming),
    ...(options.signingKey === false ? {} : { signingKey: e2e.issuer.privateJwk() }),
  })
}

describe('token-profile probes against real gateways', () => {
  let pinned: E2E
  let defaults: E2E
  let lax: E2E
  const teardown = createTeardown()
  before(async () => {
    // The probes send dozens of deliberately refused tokens from one address: no per-address limit here.
    pinned = await startE2E({ config: { allowedClients: ['agent-app'], requiredClaims: { tid: 'tenant-1' }, requiredScopes: ['mcp'], unauthenticatedLimit: { enabled: false } } })
    teardown.add(() => pinned.close())
    defaults = await startE2E()
    teardown.add(() => defaults.close())
    lax = await startE2E({ config: { tokenTypes: ['at+jwt', 'JWT', null, 'secevent+jwt', 'logout+jwt', 'dpop+jwt'], unauthenticatedLimit: { enabled: false } } })
    teardown.add(() => lax.close())
  })
  after(() => teardown.run())

  it('a pinned gateway passes every probe, each refused for its own class', async () => {
    const checks = await probe(pinned)
    assert.deepEqual(verdicts(checks), Object.fromEntries(PROFILE.map((id) => [id, 'PASS'])), JSON.stringify(checks, null, 1))
    assert.match(summary(checks, 'gateway.token-lifetime'), /refused \(lifetime_too_long\)/)
    assert.match(summary(checks, 'gateway.client-pinning'), /refused \(client_not_allowed\)/)
    assert.match(summary(checks, 'gateway.required-claims'), /without groups, tid: refused \(claim_mismatch\)/)
    assert.deepEqual(checks.filter((c) => c.status !== 'PASS'), [])
  })

  it('a gateway with the default profile refuses typ, algorithm and lifetime, and is warned that clients and claims are not pinned', async () => {
    const checks = await probe(defaults, { claims: { tid: 'tenant-1' } })
    assert.deepEqual(verdicts(checks), {
      'gateway.signing-key': 'PASS',
      'gateway.token-type': 'PASS',
      'gateway.alg-substitution': 'PASS',
      'gateway.token-lifetime': 'PASS',
      'gateway.client-pinning': 'WARN',
      'gateway.required-claims': 'WARN',
    })
    assert.match(summary(checks, 'gateway.client-pinning'), /accepted \(HTTP 200\); any client is accepted/)
    assert.match(summary(checks, 'gateway.required-claims'), /accepted \(HTTP 200\); no claim value is pinned/)
  })

  it('fails a gateway that accepts other token types, whether or not the probe holds a trusted key', async () => {
    const trusted = await probe(lax)
    assert.equal(verdicts(trusted)['gateway.token-type'], 'FAIL')
    assert.match(summary(trusted, 'gateway.token-type'), /accepted \(HTTP 200\); the typ header is not checked/)
    const untrusted = await probe(lax, { signingKey: false })
    assert.equal(verdicts(untrusted)['gateway.token-type'], 'FAIL')
    assert.match(summary(untrusted, 'gateway.token-type'), /refused only for the signature/)
  })

  it('substitutes only algorithms the issuer does not declare, for a key whose JWK names none (Entra ID style)', async () => {
    const entra = await startE2E({ issuer: { publishAlg: false, discoveryOverrides: { id_token_signing_alg_values_supported: ['RS256', 'PS256'] } } })
    try {
      for (const signingKey of [false, true]) {
        const checks = await probe(entra, { signingKey })
        assert.equal(verdicts(checks)['gateway.alg-substitution'], 'PASS', summary(checks, 'gateway.alg-substitution'))
        assert.match(summary(checks, 'gateway.alg-substitution'), /under RS512, PS512: refused \(alg_not_declared\)/)
      }
    } finally {
      await entra.close()
    }
  })

  it('fails the control when the signing key is not one the issuer publishes, and claims nothing it cannot show', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true })
    const checks = await probeGateway({
      mcpUrl: pinned.gateway.resource,
      clock: pinned.clock,
      token: await pinned.token('alice', ['dba'], conforming),
      signingKey: { ...(await exportJWK(privateKey)), kid: 'not-published', alg: 'RS256' },
    })
    assert.equal(verdicts(checks)['gateway.signing-key'], 'FAIL')
    assert.match(summary(checks, 'gateway.signing-key'), /refused \(unknown_key\)/)
    for (const id of ['gateway.token-lifetime', 'gateway.client-pinning', 'gateway.required-claims']) {
      assert.equal(verdicts(checks)[id], 'WARN', summary(checks, id))
      assert.match(summary(checks, id), /refused, but as unknown_key/)
    }
  })
})
