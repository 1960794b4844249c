import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { STSClient } from '@aws-sdk/client-sts'
import { fromTokenFile } from '@aws-sdk/credential-providers'
import type { Principal } from '../../src/auth/principal.js'
import type { AwsTarget } from '../../src/aws/aws-clients.js'
import { createRoleCredentials, roleSessionName, sourceIdentity, stsSafeName } from '../../src/aws/role-credentials.js'
import { createManualClock } from '../../src/clock.js'
import { UpstreamError } from '../../src/errors.js'
import { CONNECTION_ROLE, GATEWAY_ROLE, NO_SOURCE_ROLE, startStsFixture, type StsFixture } from '../sandbox/sts/sts-fixture.js'
import { createTeardown } from '../support/teardown.js'

const STS_NAME = /^[\w+=,.@-]{2,64}$/
const principal = (subject: string, extra: Partial<Principal> = {}): Principal => ({
  issuer: 'https://idp.example.com',
  subject,
  groups: [],
  expiresAt: 0,
  ...extra,
})

describe('role session names', () => {
  const table: Array<[string, string | RegExp]> = [
    ['alice', 'airlock-alice'],
    ['alice@example.com', 'airlock-alice@example.com'],
    ['00u1abcd+=,.@-_', 'airlock-00u1abcd+=,.@-_'],
    ['auth0|123456', /^airlock-auth0_123456-[0-9a-f]{8}$/],
    ['jöhn doe', /^airlock-j_hn_doe-[0-9a-f]{8}$/],
    ['x'.repeat(200), /^airlock-x{47}-[0-9a-f]{8}$/],
    ['', /^airlock--[0-9a-f]{8}$/],
  ]
  for (const [sub, expected] of table) {
    it(`sub ${JSON.stringify(sub.length > 20 ? sub.slice(0, 20) + '…' : sub)}`, () => {
      const name = roleSessionName(principal(sub))
      if (typeof expected === 'string') assert.equal(name, expected)
      else assert.match(name, expected)
      assert.match(name, STS_NAME)
      assert.equal(roleSessionName(principal(sub)), name, 'deterministic')
    })
  }

  it('keeps identities that differ only in replaced characters apart', () => {
    assert.notEqual(roleSessionName(principal('a|b')), roleSessionName(principal('a/b')))
    assert.notEqual(stsSafeName('x'.repeat(80) + '1'), stsSafeName('x'.repeat(80) + '2'))
  })

  it('uses the configured claim, falling back to the subject', () => {
    assert.equal(roleSessionName(principal('u1', { email: 'bob@example.com' }), 'email'), 'airlock-bob@example.com')
    assert.equal(roleSessionName(principal('u1'), 'email'), 'airlock-u1')
  })

  it('derives an STS-valid SourceIdentity from the subject', () => {
    assert.equal(sourceIdentity(principal('alice@example.com')), 'alice@example.com')
    assert.match(sourceIdentity(principal('a')), /^a-[0-9a-f]{8}$/)
    assert.match(sourceIdentity(principal('spiffe://x/y')), STS_NAME)
  })
})

describe('createRoleCredentials against the STS emulator', () => {
  let fx: StsFixture
  let sts: STSClient
  const teardown = createTeardown()
  before(async () => {
    fx = await startStsFixture()
    teardown.add(() => fx.close())
    sts = new STSClient({
      region: 'eu-west-1',
      endpoint: fx.sts.endpoint,
      maxAttempts: 1,
      credentials: fromTokenFile({ webIdentityTokenFile: fx.issuer.tokenFile, roleArn: GATEWAY_ROLE, roleSessionName: 'airlock', clientConfig: { region: 'eu-west-1', endpoint: fx.sts.endpoint } }),
    })
    teardown.add(() => sts.destroy())
  })
  after(() => teardown.run())
  const assumeCalls = (roleArn: string) => fx.trail.entries().filter((e) => e.action === 'AssumeRole' && e.outcome === 'ok' && e.detail?.['roleArn'] === roleArn).length
  const target = (subject: string): AwsTarget => ({ region: 'eu-west-1', roleArn: CONNECTION_ROLE, principal: principal(subject) })

  it('assumes the role as the gateway with the agent identity, caches until shortly before expiry', async () => {
    const clock = createManualClock(fx.clock.now())
    const roleCreds = createRoleCredentials({ sts, clock, refreshBeforeMs: 300_000 })
    const provider = roleCreds(CONNECTION_ROLE, target('alice@example.com'))
    const before = assumeCalls(CONNECTION_ROLE)
    const first = await provider()
    assert.match(first.accessKeyId, /^ASIA/)
    const stored = fx.store.get(first.accessKeyId)
    assert.equal(stored?.principalArn, 'arn:aws:sts::111122223333:assumed-role/airlock-orders-db/airlock-alice@example.com')
    assert.equal(stored?.sourceIdentity, 'alice@example.com')
    const call = fx.trail.entries().filter((e) => e.action === 'AssumeRole').at(-1)
    assert.match(call?.principalArn ?? '', /assumed-role\/airlock-gateway\/airlock$/)

    clock.advance(3000_000)
    assert.equal((await provider()).accessKeyId, first.accessKeyId, 'still cached 50 minutes in')
    assert.equal((await roleCreds(CONNECTION_ROLE, target('alice@example.com'))()).accessKeyId, first.accessKeyId, 'shared across provider instances')
    assert.equal(assumeCalls(CONNECTION_ROLE), before + 1)

    clock.advance(301_000) // inside the 5-minute refresh window
    const second = await provider()
    assert.notEqual(second.accessKeyId, first.accessKeyId)
    assert.equal(assumeCalls(CONNECTION_ROLE), before + 2)
  })

  it('keeps one session per subject and makes one call for concurrent callers', async () => {
    const roleCreds = createRoleCredentials({ sts, clock: createManualClock(fx.clock.now()) })
    const before = assumeCalls(CONNECTION_ROLE)
    const results = await Promise.all(Array.from({ length: 6 }, () => roleCreds(CONNECTION_ROLE, target('carol'))()))
    assert.equal(new Set(results.map((r) => r.accessKeyId)).size, 1)
    assert.equal(assumeCalls(CONNECTION_ROLE), before + 1)
    const dave = await roleCreds(CONNECTION_ROLE, target('dave'))()
    assert.notEqual(dave.accessKeyId, results[0]?.accessKeyId)
    assert.equal(fx.store.get(dave.accessKeyId)?.sourceIdentity, 'dave')
  })

  it('keeps at most maxSessions sessions, dropping the least recently used', async () => {
    const roleCreds = createRoleCredentials({ sts, clock: createManualClock(fx.clock.now()), maxSessions: 2 })
    const before = assumeCalls(CONNECTION_ROLE)
    const frank = await roleCreds(CONNECTION_ROLE, target('frank'))()
    const grace = await roleCreds(CONNECTION_ROLE, target('grace'))()
    assert.equal((await roleCreds(CONNECTION_ROLE, target('frank'))()).accessKeyId, frank.accessKeyId)
    await roleCreds(CONNECTION_ROLE, target('heidi'))()
    assert.equal(assumeCalls(CONNECTION_ROLE), before + 3)
    assert.equal((await roleCreds(CONNECTION_ROLE, target('frank'))()).accessKeyId, frank.accessKeyId, 'frank was used more recently than grace')
    assert.notEqual((await roleCreds(CONNECTION_ROLE, target('grace'))()).accessKeyId, grace.accessKeyId, "grace's session was dropped")
    assert.equal(assumeCalls(CONNECTION_ROLE), before + 4)
  })

  it('does not hand out a session past its expiry, even without a refresh window', async () => {
    const clock = createManualClock(fx.clock.now())
    const roleCreds = createRoleCredentials({ sts, clock, refreshBeforeMs: 0, durationSeconds: 900 })
    const first = await roleCreds(CONNECTION_ROLE, target('ivan'))()
    clock.advance(899_000)
    assert.equal((await roleCreds(CONNECTION_ROLE, target('ivan'))()).accessKeyId, first.accessKeyId)
    clock.advance(1_000)
    assert.notEqual((await roleCreds(CONNECTION_ROLE, target('ivan'))()).accessKeyId, first.accessKeyId)
  })

  it('maps a refused AssumeRole to AWS_DENIED and does not cache the failure', async () => {
    const roleCreds = createRoleCredentials({ sts, clock: createManualClock(fx.clock.now()) })
    const provider = roleCreds(NO_SOURCE_ROLE, { region: 'eu-west-1', roleArn: NO_SOURCE_ROLE, principal: principal('erin') })
    for (let i = 0; i < 2; i++) {
      await assert.rejects(provider(), (e: unknown) => e instanceof UpstreamError && e.code === 'AWS_DENIED' && !e.message.includes('ASIA'))
    }
    assert.equal(fx.trail.entries().filter((e) => e.action === 'AssumeRole' && e.detail === undefined && e.outcome === 'AccessDenied').length >= 2, true)
  })
})
