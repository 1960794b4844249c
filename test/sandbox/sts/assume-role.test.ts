import assert from 'node:assert/strict'
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AwsCredentialIdentity, SourceData } from '@smithy/types'
import { CONNECTION_ROLE, GATEWAY_ROLE, NO_SOURCE_ROLE, SHORT_ROLE, startStsFixture, type StsFixture } from './sts-fixture.js'
import { createTeardown } from '../../support/teardown.js'

class NodeSha256 {
  readonly #hash: Hash | Hmac
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret))
  }
  update(data: SourceData): void {
    this.#hash.update(toBytes(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest())
  }
}

function toBytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return new Uint8Array(data)
}

describe('STS emulator: AssumeRole and GetCallerIdentity (SigV4)', () => {
  let fx: StsFixture
  let gatewayCreds: AwsCredentialIdentity
  const clients: STSClient[] = []
  const stsAs = (credentials: AwsCredentialIdentity): STSClient => {
    const c = new STSClient({ region: 'eu-west-1', endpoint: fx.sts.endpoint, credentials, maxAttempts: 1 })
    clients.push(c)
    return c
  }
  async function refusal(promise: Promise<unknown>) {
    const error = await promise.then(() => undefined, (e: unknown) => e)
    assert.ok(error instanceof Error, 'expected a refusal')
    return { name: error.name, status: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, message: error.message }
  }

  const teardown = createTeardown()
  before(async () => {
    fx = await startStsFixture()
    teardown.add(() => fx.close())
    // Registered after the fixture so it runs first: clients let go of their connections before the server closes.
    teardown.add(() => {
      for (const c of clients) c.destroy()
    })
    const anon = new STSClient({ region: 'eu-west-1', endpoint: fx.sts.endpoint, maxAttempts: 1 })
    clients.push(anon)
    const out = await anon.send(
      new AssumeRoleWithWebIdentityCommand({ RoleArn: GATEWAY_ROLE, RoleSessionName: 'airlock', WebIdentityToken: await fx.issuer.mint() }),
    )
    const c = out.Credentials
    assert.ok(c?.AccessKeyId !== undefined && c.SecretAccessKey !== undefined && c.SessionToken !== undefined, 'c?.AccessKeyId !== undefined && c.SecretAccessKey !== undefined && c.SessionToken !== undefined')
    gatewayCreds = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }
  })
  after(() => teardown.run())

  it('GetCallerIdentity names the gateway session', async () => {
    const id = await stsAs(gatewayCreds).send(new GetCallerIdentityCommand({}))
    assert.equal(id.Arn, 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock')
    assert.equal(id.Account, '111122223333')
    assert.match(id.UserId ?? '', /^AROA[A-Z2-7]{17}:airlock$/)
  })

  it('AssumeRole with SourceIdentity issues a session that carries it, recorded in the trail', async () => {
    const out = await stsAs(gatewayCreds).send(
      new AssumeRoleCommand({ RoleArn: CONNECTION_ROLE, RoleSessionName: 'airlock-alice', SourceIdentity: 'alice@example.com', DurationSeconds: 900 }),
    )
    assert.equal(out.SourceIdentity, 'alice@example.com')
    assert.equal(out.AssumedRoleUser?.Arn, 'arn:aws:sts::111122223333:assumed-role/airlock-orders-db/airlock-alice')
    const key = out.Credentials?.AccessKeyId ?? ''
    assert.match(key, /^ASIA/)
    assert.equal(fx.store.get(key)?.sourceIdentity, 'alice@example.com')
    const session = { accessKeyId: key, secretAccessKey: out.Credentials?.SecretAccessKey ?? '', sessionToken: out.Credentials?.SessionToken ?? '' }
    const id = await stsAs(session).send(new GetCallerIdentityCommand({}))
    assert.equal(id.Arn, 'arn:aws:sts::111122223333:assumed-role/airlock-orders-db/airlock-alice')
    const entry = fx.trail.entries().at(-1)
    assert.equal(entry?.action, 'GetCallerIdentity')
    assert.equal(entry?.principalArn, 'arn:aws:sts::111122223333:assumed-role/airlock-orders-db/airlock-alice')
    assert.equal(entry?.sourceIdentity, 'alice@example.com')
    assert.equal(entry?.accessKeyId, key)

    // Role chaining: the source identity is inherited and cannot be changed.
    const chained = await stsAs(session).send(new AssumeRoleCommand({ RoleArn: SHORT_ROLE, RoleSessionName: 'chained' }))
    assert.equal(chained.SourceIdentity, 'alice@example.com')
    assert.equal(fx.store.get(chained.Credentials?.AccessKeyId ?? '')?.sourceIdentity, 'alice@example.com')
    const changed = await refusal(stsAs(session).send(new AssumeRoleCommand({ RoleArn: SHORT_ROLE, RoleSessionName: 'chained', SourceIdentity: 'mallory' })))
    assert.equal(changed.name, 'AccessDenied')
    assert.equal(changed.status, 403)
    // Chained sessions are capped at one hour even when the role allows more.
    const long = await refusal(stsAs(session).send(new AssumeRoleCommand({ RoleArn: SHORT_ROLE, RoleSessionName: 'chained', DurationSeconds: 7200 })))
    assert.equal(long.name, 'ValidationError')
  })

  it('refuses roles whose trust policy does not name the caller, or lacks sts:SetSourceIdentity', async () => {
    const untrusted = await refusal(stsAs(gatewayCreds).send(new AssumeRoleCommand({ RoleArn: GATEWAY_ROLE, RoleSessionName: 'self' })))
    assert.equal(untrusted.name, 'AccessDenied')
    assert.equal(untrusted.status, 403)
    const unknown = await refusal(stsAs(gatewayCreds).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/ghost', RoleSessionName: 'x1' })))
    assert.equal(unknown.name, 'AccessDenied')
    const source = await refusal(
      stsAs(gatewayCreds).send(new AssumeRoleCommand({ RoleArn: NO_SOURCE_ROLE, RoleSessionName: 'x1', SourceIdentity: 'alice' })),
    )
    assert.equal(source.name, 'AccessDenied')
    assert.match(source.message, /SetSourceIdentity/)
    const plain = await stsAs(gatewayCreds).send(new AssumeRoleCommand({ RoleArn: NO_SOURCE_ROLE, RoleSessionName: 'x1' }))
    assert.equal(plain.SourceIdentity, undefined)
  })

  it('validates RoleSessionName, SourceIdentity and DurationSeconds', async () => {
    const gw = stsAs(gatewayCreds)
    for (const input of [
      { RoleSessionName: 'a' },
      { RoleSessionName: 'bad/name' },
      { RoleSessionName: 'ok-name', SourceIdentity: 'aws:alice' },
      { RoleSessionName: 'ok-name', SourceIdentity: 'has space' },
      { RoleSessionName: 'ok-name', DurationSeconds: 600 },
      { RoleSessionName: 'ok-name', DurationSeconds: 3601 },
    ]) {
      const r = await refusal(gw.send(new AssumeRoleCommand({ RoleArn: CONNECTION_ROLE, ...input })))
      assert.equal(r.name, 'ValidationError', JSON.stringify(input))
      assert.equal(r.status, 400)
    }
  })

  it('refuses bad signatures, unknown keys and expired sessions', async () => {
    const badSig = await refusal(stsAs({ ...gatewayCreds, secretAccessKey: 'x'.repeat(40) }).send(new GetCallerIdentityCommand({})))
    assert.equal(badSig.name, 'SignatureDoesNotMatch')
    assert.equal(badSig.status, 403)
    const unknown = await refusal(stsAs({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'y'.repeat(40) }).send(new GetCallerIdentityCommand({})))
    assert.equal(unknown.name, 'InvalidClientTokenId')
    assert.equal(unknown.status, 403)
    const noToken = await refusal(stsAs({ accessKeyId: gatewayCreds.accessKeyId, secretAccessKey: gatewayCreds.secretAccessKey }).send(new GetCallerIdentityCommand({})))
    assert.equal(noToken.name, 'InvalidClientTokenId')
    const short = await stsAs(gatewayCreds).send(new AssumeRoleCommand({ RoleArn: NO_SOURCE_ROLE, RoleSessionName: 'short', DurationSeconds: 900 }))
    const shortCreds = { accessKeyId: short.Credentials?.AccessKeyId ?? '', secretAccessKey: short.Credentials?.SecretAccessKey ?? '', sessionToken: short.Credentials?.SessionToken ?? '' }
    const expiring = stsAs(shortCreds)
    fx.clock.advance(901_000)
    try {
      const expired = await refusal(expiring.send(new GetCallerIdentityCommand({})))
      // Signature skew also trips once the clock moves; either way the call is refused with 403.
      assert.ok(['ExpiredToken', 'SignatureDoesNotMatch'].includes(expired.name), expired.name)
      assert.equal(expired.status, 403)
    } finally {
      fx.clock.advance(-901_000)
    }
  })

  it('refuses an unsigned AssumeRole and an unknown action', async () => {
    const res = await fetch(fx.sts.endpoint + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(CONNECTION_ROLE)}&RoleSessionName=x1`,
    })
    assert.equal(res.status, 403)
    const text = await res.text()
    assert.match(text, /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/)
    assert.match(text, /<RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/)
    const unknown = await fetch(fx.sts.endpoint + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetFederationToken&Version=2011-06-15&Name=x',
    })
    assert.equal(unknown.status, 400)
    assert.match(await unknown.text(), /<Code>InvalidAction<\/Code>/)
  })

  it('answers GetCallerIdentity as JSON when asked with Accept: application/json', async () => {
    const signer = new SignatureV4({ service: 'sts', region: 'eu-west-1', credentials: gatewayCreds, sha256: NodeSha256 })
    const url = new URL(fx.sts.endpoint)
    const body = 'Action=GetCallerIdentity&Version=2011-06-15'
    const request = new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
    })
    const signed = await signer.sign(request)
    const res = await fetch(fx.sts.endpoint + '/', { method: 'POST', headers: signed.headers, body })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /application\/json/)
    const json = (await res.json()) as { GetCallerIdentityResponse: { GetCallerIdentityResult: { Arn: string; Account: string; UserId: string }; ResponseMetadata: { RequestId: string } } }
    assert.equal(json.GetCallerIdentityResponse.GetCallerIdentityResult.Arn, 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock')
    assert.equal(json.GetCallerIdentityResponse.GetCallerIdentityResult.Account, '111122223333')
    assert.match(json.GetCallerIdentityResponse.ResponseMetadata.RequestId, /^[0-9a-f-]{36}$/)
  })

  it('verifies a presigned GetCallerIdentity URL (the EKS token shape)', async () => {
    const signer = new SignatureV4({ service: 'sts', region: 'eu-west-1', credentials: gatewayCreds, sha256: NodeSha256 })
    const url = new URL(fx.sts.endpoint)
    const request = new HttpRequest({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: url.host, 'x-k8s-aws-id': 'orders' },
    })
    const presigned = await signer.presign(request, { expiresIn: 60 })
    const qs = new URLSearchParams(Object.entries(presigned.query ?? {}).map(([k, v]): [string, string] => [k, String(v)])).toString()
    const ok = await fetch(`${fx.sts.endpoint}/?${qs}`, { headers: { 'x-k8s-aws-id': 'orders', accept: 'application/json' } })
    assert.equal(ok.status, 200)
    assert.match(await ok.text(), /assumed-role\/airlock-gateway\/airlock/)
    const tampered = await fetch(`${fx.sts.endpoint}/?${qs}`, { headers: { 'x-k8s-aws-id': 'other', accept: 'application/json' } })
    assert.equal(tampered.status, 403)
    const err = (await tampered.json()) as { Error: { Code: string } }
    assert.equal(err.Error.Code, 'SignatureDoesNotMatch')
  })
})
