import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { gatewayCredentials, STS_REQUEST_HANDLER, type GatewayEnv } from '../../src/aws/gateway-credentials.js'
import { UpstreamError } from '../../src/errors.js'
import { HANG, startFaultProxy } from '../support/fault-proxy.js'
import { CONNECTION_ROLE, GATEWAY_ROLE, startStsFixture, type StsFixture } from '../sandbox/sts/sts-fixture.js'
import { createTeardown } from '../support/teardown.js'

describe('gatewayCredentials (default chain, IRSA)', () => {
  let fx: StsFixture
  const saved = { ...process.env }
  let irsa: GatewayEnv
  const teardown = createTeardown()
  before(async () => {
    teardown.add(() => { process.env = saved })
    fx = await startStsFixture()
    teardown.add(() => fx.close())
    // The SDK chain also reads process.env and ~/.aws: isolate it so only IRSA can answer, and never reach IMDS.
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']) {
      delete process.env[key]
    }
    process.env['AWS_CONFIG_FILE'] = join(fx.dir, 'no-config')
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(fx.dir, 'no-credentials')
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true'
    irsa = {
      AWS_ROLE_ARN: GATEWAY_ROLE,
      AWS_WEB_IDENTITY_TOKEN_FILE: fx.issuer.tokenFile,
      AWS_ENDPOINT_URL_STS: fx.sts.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ROLE_SESSION_NAME: 'airlock-gateway',
    }
  })
  after(() => teardown.run())

  async function failure(env: GatewayEnv): Promise<UpstreamError> {
    const error = await gatewayCredentials(env)().then(() => undefined, (e: unknown) => e)
    assert.ok(error instanceof UpstreamError, `expected UpstreamError, got ${String(error)}`)
    assert.equal(error.code, 'AWS_CREDENTIALS')
    assert.doesNotMatch(error.message, /eyJ|ASIA|AKIA/)
    return error
  }

  it('federates the service-account token to the gateway role and signs as it', async () => {
    const provider = gatewayCredentials(irsa)
    const creds = await provider()
    assert.match(creds.accessKeyId, /^ASIA/)
    const sts = new STSClient({ region: 'eu-west-1', endpoint: fx.sts.endpoint, credentials: provider, maxAttempts: 1 })
    try {
      const id = await sts.send(new GetCallerIdentityCommand({}))
      assert.equal(id.Arn, 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock-gateway')
    } finally {
      sts.destroy()
    }
  })

  it('gives up on an STS that never answers, within its request timeout per attempt', { timeout: 60_000 }, async () => {
    const proxy = await startFaultProxy(fx.sts.endpoint)
    proxy.fault('/', HANG)
    try {
      const started = performance.now()
      await failure({ ...irsa, AWS_ENDPOINT_URL_STS: proxy.url })
      const ms = performance.now() - started
      const attempts = proxy.requests().length
      assert.ok(attempts >= 1, 'expected: attempts >= 1')
      assert.ok(ms < attempts * STS_REQUEST_HANDLER.requestTimeout + 2000, `answered after ${Math.round(ms)} ms, ${attempts} attempts`)
    } finally {
      await proxy.close()
    }
  })

  it('explains an expired projected token', async () => {
    const expired = join(fx.dir, 'expired-token')
    await writeFile(expired, await fx.issuer.mint({ expiresInSeconds: -30 }))
    const e = await failure({ ...irsa, AWS_WEB_IDENTITY_TOKEN_FILE: expired })
    assert.match(e.message, /web identity token .* has expired/)
  })

  it('explains a trust policy that does not admit the service account', async () => {
    const e = await failure({ ...irsa, AWS_ROLE_ARN: CONNECTION_ROLE })
    assert.match(e.message, /refused to let this identity assume/)
  })

  it('explains a token STS rejects', async () => {
    const wrongAud = join(fx.dir, 'wrong-aud')
    await writeFile(wrongAud, await fx.issuer.mint({ aud: 'kubernetes' }))
    const e = await failure({ ...irsa, AWS_WEB_IDENTITY_TOKEN_FILE: wrongAud })
    assert.match(e.message, /rejected the web identity token/)
  })

  it('explains a missing token file', async () => {
    const e = await failure({ ...irsa, AWS_WEB_IDENTITY_TOKEN_FILE: join(fx.dir, 'absent') })
    assert.match(e.message, /cannot read the web identity token file/)
  })

  it('explains an empty chain', async () => {
    const e = await failure({ AWS_REGION: 'eu-west-1' })
    assert.match(e.message, /no AWS credentials found/)
  })
})
