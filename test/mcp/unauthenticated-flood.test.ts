import assert from 'node:assert/strict'
import { generateKeyPair } from 'jose'
import { after, describe, it } from 'node:test'
import { createManualClock } from '../../src/clock.js'
import { createUnauthenticatedLimiter } from '../../src/mcp/unauthenticated-limiter.js'
import { createTeardown } from '../support/teardown.js'
import { INITIALIZE, postMcp } from '../e2e/support/raw-http.js'
import { startMcpGateway } from './support/start-mcp-gateway.js'

const POLICY = { version: 1, grants: [{ id: 'dba', groups: ['dba'], tools: ['whoami'] }] }

describe('a flood of bad tokens from one address is refused before any token is verified', () => {
  const teardown = createTeardown()
  after(() => teardown.run())

  it('verifies the first `burst` failures, then answers 429 with Retry-After without calling the verifier or fetching keys', async () => {
    const clock = createManualClock(Date.now())
    let verified = 0
    const gw = await startMcpGateway({ policy: POLICY, clock, limiter: createUnauthenticatedLimiter({ clock, burst: 5, perMinute: 60, maxAddresses: 1000 }), onVerify: () => (verified += 1) })
    teardown.add(() => gw.close())
    // Signed with a key that is not the issuer's but names the issuer's kid: each would cost a signature check.
    const { privateKey } = await generateKeyPair('RS256')
    const forged = await gw.issuer.mint({ aud: gw.url }, { key: privateKey })
    // One at a time first: a failure is charged when verification has failed, so requests already in
    // flight when the allowance runs out are still verified (at most the address's concurrency).
    for (let i = 0; i < 5; i++) assert.equal((await postMcp(gw.url, INITIALIZE, { authorization: `Bearer ${forged}` })).status, 401)
    assert.equal(verified, 5)
    const answers = await Promise.all(Array.from({ length: 40 }, () => postMcp(gw.url, INITIALIZE, { authorization: `Bearer ${forged}` })))
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([429]))
    assert.equal(verified, 5, 'the flood never reached the verifier')
    const throttled = answers.find((a) => a.status === 429)
    assert.equal(throttled?.headers.get('retry-after'), '1')
    assert.deepEqual(JSON.parse(throttled?.text ?? ''), { error: 'too_many_requests', error_description: 'Too many requests without valid credentials from this address; retry later.' })
    assert.ok(!(throttled?.text ?? '').includes(forged), 'the token is not echoed')

    // Keys unknown to the issuer would each ask for a JWKS fetch: none is made while refused.
    const jwksBefore = gw.issuer.jwksRequests
    for (let i = 0; i < 10; i++) {
      const unknownKid = await gw.issuer.mint({ aud: gw.url }, { kid: `attacker-${i}` })
      assert.equal((await postMcp(gw.url, INITIALIZE, { authorization: `Bearer ${unknownKid}` })).status, 429)
    }
    assert.equal(gw.issuer.jwksRequests, jwksBefore)
    // A valid token from the refused address is not looked at either: nothing is, before the refusal.
    assert.equal((await postMcp(gw.url, INITIALIZE, { authorization: `Bearer ${await gw.token('alice', ['dba'])}` })).status, 429)
    assert.equal(verified, 5)

    // One allowance back per second.
    clock.advance(1_000)
    assert.equal((await postMcp(gw.url, INITIALIZE, { authorization: `Bearer ${await gw.token('alice', ['dba'])}` })).status, 200)
    assert.equal(verified, 6)
  })

  it('does not count refusals that are the identity provider’s fault against the client', async () => {
    const clock = createManualClock(Date.now())
    let verified = 0
    const gw = await startMcpGateway({ policy: POLICY, clock, limiter: createUnauthenticatedLimiter({ clock, burst: 1, perMinute: 1, maxAddresses: 1000 }), onVerify: () => (verified += 1) })
    teardown.add(() => gw.close())
    const token = await gw.token('alice', ['dba'])
    gw.issuer.setDown(true)
    for (let i = 0; i < 3; i++) {
      const answer = await postMcp(gw.url, INITIALIZE, { authorization: `Bearer ${token}` })
      assert.equal(answer.status, 503, answer.text)
      clock.advance(3_000)
    }
    assert.equal(verified, 3)
    gw.issuer.setDown(false)
    assert.equal((await postMcp(gw.url, INITIALIZE, { authorization: `Bearer ${token}` })).status, 200)
  })
})
