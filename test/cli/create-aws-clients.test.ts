import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RetryErrorInfo, RetryErrorType, SdkError } from '@smithy/types'
import type { AwsTarget } from '../../src/aws/aws-clients.js'
import { atMostOnceRetry, createAwsClients } from '../../src/cli/create-aws-clients.js'

const principal = (issuer: string, subject: string) => ({ issuer, subject, groups: [], expiresAt: 0 })
const target = (roleArn: string | undefined, issuer: string, subject: string): AwsTarget => ({ region: 'us-east-1', roleArn, principal: principal(issuer, subject) })
const role = 'arn:aws:iam::111122223333:role/r'

describe('which credentials a client is cached for', () => {
  it('hands each region its own client, and each service its own', () => {
    const clients = createAwsClients({ credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }) })
    const east = target(undefined, 'i', 'alice')
    const west = { ...east, region: 'eu-west-1' }
    assert.notEqual(clients.ssm(east), clients.ssm(west))
    assert.equal(clients.ssm(west), clients.ssm({ ...west }))
    const ssm: unknown = clients.ssm(east)
    assert.notEqual(ssm, clients.eks(east))
  })

  it('hands each identity of a role its own client, and everyone the same client without a role', () => {
    const roleClients = new Map<string, number>()
    const clients = createAwsClients({
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }),
      roleCredentials: (roleArn, t) => {
        roleClients.set(t.principal.subject, (roleClients.get(t.principal.subject) ?? 0) + 1)
        return async () => ({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'y', sessionToken: 'z' })
      },
    })
    assert.equal(clients.ssm(target(undefined, 'i', 'alice')), clients.ssm(target(undefined, 'i', 'bob')))
    assert.notEqual(clients.rdsData(target(role, 'i', 'alice')), clients.rdsData(target(role, 'i', 'bob')))
    assert.equal(clients.rdsData(target(role, 'i', 'alice')), clients.rdsData(target(role, 'i', 'alice')))
    assert.deepEqual(Object.fromEntries(roleClients), { alice: 1, bob: 1 })
  })

  it('destroys the clients it drops', async () => {
    const clients = createAwsClients({
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }),
      roleCredentials: () => async () => ({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'y', sessionToken: 'z' }),
      maxCachedClients: 1,
    })
    const first = clients.rdsData(target(role, 'i', 'alice'))
    let destroyed = false
    const destroy = first.destroy.bind(first)
    first.destroy = () => {
      destroyed = true
      destroy()
    }
    clients.rdsData(target(role, 'i', 'bob'))
    assert.equal(destroyed, true)
  })

  it('keeps at most 1000 clients, dropping the least recently used', () => {
    const clients = createAwsClients({
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }),
      roleCredentials: () => async () => ({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'y', sessionToken: 'z' }),
    })
    const first = clients.rdsData(target(role, 'i', 'user-0'))
    const busy = clients.rdsData(target(role, 'i', 'user-1'))
    for (let i = 2; i < 1000; i++) clients.rdsData(target(role, 'i', `user-${i}`))
    assert.equal(clients.rdsData(target(role, 'i', 'user-1')), busy, 'touching a client keeps it')
    clients.rdsData(target(role, 'i', 'user-1000'))
    assert.notEqual(clients.rdsData(target(role, 'i', 'user-0')), first, 'the least recently used was dropped')
    assert.equal(clients.rdsData(target(role, 'i', 'user-1')), busy)
  })
})

describe('atMostOnceRetry: what the SDK may send again', () => {
  const nodeError = (code: string, name = 'Error'): SdkError => Object.assign({ name, message: code, $metadata: {} }, { code })
  const info = (errorType: RetryErrorType, error: SdkError): RetryErrorInfo => ({ errorType, error })
  const withStatus = (name: string, status: number): SdkError => ({ name, message: name, $metadata: { httpStatusCode: status } })
  const retried = async (strategy: ReturnType<typeof atMostOnceRetry>, e: RetryErrorInfo) => {
    const first = await strategy.acquireInitialRetryToken('scope')
    return strategy.refreshRetryTokenForRetry(first, e).then(() => true, (thrown: unknown) => {
      assert.equal(thrown, e.error, 'the original error is rethrown')
      return false
    })
  }
  const strategy = atMostOnceRetry(3)
  const cases: readonly [string, RetryErrorInfo, boolean][] = [
    ['throttling (AWS refused, nothing ran)', info('THROTTLING', withStatus('ThrottlingException', 400)), true],
    ['connection refused (nothing sent)', info('TRANSIENT', nodeError('ECONNREFUSED')), true],
    ['no DNS answer (nothing sent)', info('TRANSIENT', nodeError('ENOTFOUND')), true],
    ['connection reset (may have run)', info('TRANSIENT', nodeError('ECONNRESET')), false],
    ['request timeout (may have run)', info('TRANSIENT', nodeError('ETIMEDOUT', 'TimeoutError')), false],
    ['500 (may have run)', info('TRANSIENT', withStatus('InternalServerError', 500)), false],
    ['503 (may have run)', info('SERVER_ERROR', withStatus('ServiceUnavailable', 503)), false],
    ['400 validation (pointless to repeat)', info('CLIENT_ERROR', withStatus('ValidationException', 400)), false],
  ]
  for (const [name, e, expected] of cases) {
    it(`${expected ? 'retries' : 'does not retry'} ${name}`, async () => {
      assert.equal(await retried(strategy, e), expected)
    })
  }

  it('stops at maxAttempts even for throttling, with growing backoff', async () => {
    const throttled = info('THROTTLING', withStatus('ThrottlingException', 400))
    const first = await strategy.acquireInitialRetryToken('scope')
    const second = await strategy.refreshRetryTokenForRetry(first, throttled)
    const third = await strategy.refreshRetryTokenForRetry(second, throttled)
    assert.ok(third.getRetryDelay() > 0 && third.getRetryDelay() <= 5000, 'expected: third.getRetryDelay() > 0 && third.getRetryDelay() <= 5000')
    await assert.rejects(strategy.refreshRetryTokenForRetry(third, throttled), (e) => e === throttled.error)
  })

  it('is what every client is built with, and the request timeout is exposed for calls outside the SDK', async () => {
    const clients = createAwsClients({ credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }), timeouts: { requestMs: 1234 } })
    assert.equal(clients.requestTimeoutMs, 1234)
    const t = target(undefined, 'i', 'alice')
    for (const client of [clients.ssm(t), clients.rdsData(t), clients.eks(t)]) {
      const configured = await client.config.retryStrategy()
      assert.ok('acquireInitialRetryToken' in configured, 'a RetryStrategyV2')
      const first = await configured.acquireInitialRetryToken('scope')
      const reset = info('TRANSIENT', nodeError('ECONNRESET'))
      await assert.rejects(configured.refreshRetryTokenForRetry(first, reset), (e) => e === reset.error)
    }
  })
})
