import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { fromNodeProviderChain, fromTokenFile } from '@aws-sdk/credential-providers'
import { generateKeyPair, SignJWT } from 'jose'
import { join } from 'node:path'
import { GATEWAY_ROLE, CONNECTION_ROLE, startStsFixture, type StsFixture } from './sts-fixture.js'
import { createTeardown } from '../../support/teardown.js'

const SUB = 'system:serviceaccount:airlock:airlock-gateway'

describe('STS emulator: AssumeRoleWithWebIdentity', () => {
  let fx: StsFixture
  let client: STSClient
  const teardown = createTeardown()
  before(async () => {
    fx = await startStsFixture()
    teardown.add(() => fx.close())
    client = new STSClient({ region: 'eu-west-1', endpoint: fx.sts.endpoint, maxAttempts: 1 })
    teardown.add(() => client.destroy())
  })
  after(() => teardown.run())

  async function refused(token: string, roleArn = GATEWAY_ROLE, extra: { RoleSessionName?: string; DurationSeconds?: number } = {}) {
    const error = await client
      .send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: extra.RoleSessionName ?? 'gw', WebIdentityToken: token, ...(extra.DurationSeconds === undefined ? {} : { DurationSeconds: extra.DurationSeconds }) }))
      .then(() => undefined, (e: unknown) => e)
    assert.ok(error instanceof Error, 'expected the call to be refused')
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    return { name: error.name, status, message: error.message }
  }

  it('issues ASIA credentials through the real fromTokenFile provider', async () => {
    const provider = fromTokenFile({
      webIdentityTokenFile: fx.issuer.tokenFile,
      roleArn: GATEWAY_ROLE,
      roleSessionName: 'airlock-gateway',
      clientConfig: { region: 'eu-west-1', endpoint: fx.sts.endpoint },
    })
    const creds = await provider()
    assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/)
    assert.ok(creds.sessionToken !== undefined && creds.sessionToken.length > 50, 'creds.sessionToken !== undefined && creds.sessionToken.length > 50')
    assert.ok(creds.expiration instanceof Date, 'creds.expiration instanceof Date')
    const lifetime = creds.expiration.getTime() - fx.clock.now()
    assert.ok(lifetime > 3500_000 && lifetime <= 3600_000, `lifetime ${lifetime}`)
    assert.equal(creds.accountId, '111122223333')
    const stored = fx.store.get(creds.accessKeyId)
    assert.equal(stored?.principalArn, 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock-gateway')
    assert.equal(stored?.secretAccessKey, creds.secretAccessKey)
    const entry = fx.trail.entries().at(-1)
    assert.equal(entry?.action, 'AssumeRoleWithWebIdentity')
    assert.equal(entry?.outcome, 'ok')
    assert.equal(entry?.principalArn, `${fx.issuer.issuer}:${SUB}`)
  })

  it('returns the subject, provider and assumed-role user like STS', async () => {
    const out = await client.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: GATEWAY_ROLE, RoleSessionName: 'gw-1', WebIdentityToken: await fx.issuer.mint(), DurationSeconds: 900 }),
    )
    assert.equal(out.SubjectFromWebIdentityToken, SUB)
    assert.equal(out.Audience, 'sts.amazonaws.com')
    assert.equal(out.Provider, fx.issuer.issuer.replace(/^https:\/\//, ''))
    assert.equal(out.AssumedRoleUser?.Arn, 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/gw-1')
    assert.match(out.AssumedRoleUser?.AssumedRoleId ?? '', /^AROA[A-Z2-7]{17}:gw-1$/)
    assert.equal(out.Credentials?.Expiration?.getTime(), Math.floor(fx.clock.now() / 1000) * 1000 + 900_000)
  })

  it('works through the default chain with IRSA environment variables and no access key', async () => {
    const saved = { ...process.env }
    try {
      for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[key]
      process.env['AWS_CONFIG_FILE'] = join(fx.dir, 'no-config')
      process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(fx.dir, 'no-credentials')
      process.env['AWS_EC2_METADATA_DISABLED'] = 'true'
      process.env['AWS_ROLE_ARN'] = GATEWAY_ROLE
      process.env['AWS_WEB_IDENTITY_TOKEN_FILE'] = fx.issuer.tokenFile
      process.env['AWS_ENDPOINT_URL_STS'] = fx.sts.endpoint
      process.env['AWS_REGION'] = 'eu-west-1'
      const creds = await fromNodeProviderChain()()
      assert.match(creds.accessKeyId, /^ASIA/)
      assert.match(fx.store.get(creds.accessKeyId)?.principalArn ?? '', /^arn:aws:sts::111122223333:assumed-role\/airlock-gateway\/aws-sdk-js-session-\d+$/)
    } finally {
      process.env = saved
    }
  })

  it('refuses a token for another audience (InvalidIdentityToken)', async () => {
    const r = await refused(await fx.issuer.mint({ aud: 'https://kubernetes.default.svc' }))
    assert.equal(r.name, 'InvalidIdentityTokenException')
    assert.equal(r.status, 400)
    assert.match(r.message, /audience/)
  })

  it('refuses a subject the trust policy does not name (AccessDenied, 403)', async () => {
    const r = await refused(await fx.issuer.mint({ sub: 'system:serviceaccount:default:default' }))
    assert.equal(r.name, 'AccessDenied')
    assert.equal(r.status, 403)
  })

  it('refuses an expired token (ExpiredTokenException)', async () => {
    const r = await refused(await fx.issuer.mint({ expiresInSeconds: -60 }))
    assert.equal(r.name, 'ExpiredTokenException')
    assert.equal(r.status, 400)
  })

  it('refuses a token signed by another key under the same kid and issuer (InvalidIdentityToken)', async () => {
    const genuine = await fx.issuer.mint()
    const header = JSON.parse(Buffer.from(genuine.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid: string }
    const { privateKey } = await generateKeyPair('RS256')
    const now = Math.floor(fx.clock.now() / 1000)
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: header.kid })
      .setIssuer(fx.issuer.issuer)
      .setSubject(SUB)
      .setAudience('sts.amazonaws.com')
      .setExpirationTime(now + 600)
      .sign(privateKey)
    const r = await refused(forged)
    assert.equal(r.name, 'InvalidIdentityTokenException')
  })

  it('refuses an unsigned (alg none) token and garbage', async () => {
    const now = Math.floor(fx.clock.now() / 1000)
    const none = [
      Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url'),
      Buffer.from(JSON.stringify({ iss: fx.issuer.issuer, sub: SUB, aud: 'sts.amazonaws.com', exp: now + 600 })).toString('base64url'),
      '',
    ].join('.')
    assert.equal((await refused(none)).name, 'InvalidIdentityTokenException')
    assert.equal((await refused('not-a-jwt')).name, 'InvalidIdentityTokenException')
  })

  it('refuses a token from an issuer with no registered provider', async () => {
    const r = await refused(await fx.issuer.mint({ iss: 'https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER' }))
    assert.equal(r.name, 'InvalidIdentityTokenException')
    assert.match(r.message, /No OpenIDConnect provider/)
  })

  it('refuses roles without web identity trust and unknown roles (AccessDenied)', async () => {
    const token = await fx.issuer.mint()
    assert.equal((await refused(token, CONNECTION_ROLE)).name, 'AccessDenied')
    assert.equal((await refused(token, 'arn:aws:iam::111122223333:role/nope')).name, 'AccessDenied')
  })

  it('validates RoleSessionName and DurationSeconds (ValidationError)', async () => {
    const token = await fx.issuer.mint()
    for (const name of ['a', 'has space', 'x'.repeat(65), 'colon:no']) {
      const r = await refused(token, GATEWAY_ROLE, { RoleSessionName: name })
      assert.equal(r.name, 'ValidationError', name)
      assert.equal(r.status, 400)
    }
    assert.equal((await refused(token, GATEWAY_ROLE, { DurationSeconds: 899 })).name, 'ValidationError')
    assert.equal((await refused(token, GATEWAY_ROLE, { DurationSeconds: 3601 })).name, 'ValidationError')
  })

  it('records refusals in the trail with their error code', () => {
    const codes = fx.trail.entries().filter((e) => e.outcome !== 'ok').map((e) => e.outcome)
    assert.ok(codes.includes('InvalidIdentityToken'), "codes.includes('InvalidIdentityToken')")
    assert.ok(codes.includes('AccessDenied'), "codes.includes('AccessDenied')")
    assert.ok(codes.includes('ExpiredTokenException'), "codes.includes('ExpiredTokenException')")
  })
})
