import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { EKSClient } from '@aws-sdk/client-eks'
import { createEksClusterInfoCache } from '../../src/aws/eks-cluster-info.js'
import { createManualClock, systemClock } from '../../src/clock.js'
import { UpstreamError } from '../../src/errors.js'
import { startEksEmulator, type EksEmulator } from '../../src/sandbox/eks/start-eks-emulator.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { createTrail, type Trail } from '../../src/sandbox/trail.js'
import { createTeardown } from '../support/teardown.js'

const CREDENTIAL = { accessKeyId: 'AKIAGATEWAYEXAMPLE01', secretAccessKey: 'gateway-secret', principalArn: 'arn:aws:iam::111122223333:role/airlock-gateway' }
const CA = '-----BEGIN CERTIFICATE-----\nMIIBdemodemodemo\n-----END CERTIFICATE-----\n'

describe('createEksClusterInfoCache', () => {
  let emulator: EksEmulator
  let trail: Trail
  const client = (secretAccessKey = CREDENTIAL.secretAccessKey) =>
    new EKSClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: CREDENTIAL.accessKeyId, secretAccessKey }, maxAttempts: 1 })
  const describes = () => trail.entries().filter((e) => e.action === 'DescribeCluster').length

  const teardown = createTeardown()
  before(async () => {
    trail = createTrail(systemClock)
    emulator = await startEksEmulator({
      store: createCredentialStore([CREDENTIAL]), trail, clock: systemClock,
      clusters: [
        { name: 'demo', region: 'us-east-1', endpoint: 'https://127.0.0.1:6443', caPem: CA },
        { name: 'being-built', region: 'us-east-1', endpoint: 'https://127.0.0.1:6444', caPem: CA, status: 'CREATING' },
      ],
    })
    teardown.add(() => emulator.close())
  })
  after(() => teardown.run())

  test('returns endpoint and CA, and caches them for a few minutes per client', async () => {
    const clock = createManualClock(0)
    const cache = createEksClusterInfoCache({ clock })
    const eks = client()
    const info = await cache.describe(eks, 'demo')
    assert.equal(info.endpoint, 'https://127.0.0.1:6443')
    assert.equal(Buffer.from(info.caData, 'base64').toString('utf8'), CA)
    assert.equal(info.arn, 'arn:aws:eks:us-east-1:111122223333:cluster/demo')
    const calls = describes()
    clock.advance(4 * 60_000)
    await cache.describe(eks, 'demo')
    assert.equal(describes(), calls)
    clock.advance(2 * 60_000)
    await cache.describe(eks, 'demo')
    assert.equal(describes(), calls + 1)
  })

  test('an unknown cluster is AWS_NOT_FOUND with a public detail, and is not cached', async () => {
    const cache = createEksClusterInfoCache({ clock: createManualClock(0) })
    const eks = client()
    for (let i = 0; i < 2; i++) {
      await assert.rejects(cache.describe(eks, 'nope'), (e) => e instanceof UpstreamError && e.code === 'AWS_NOT_FOUND' && e.publicDetail === 'EKS cluster "nope" was not found in the connection\'s region.')
    }
    assert.equal(trail.entries().filter((e) => e.outcome === 'ResourceNotFoundException').length, 2)
  })

  test('a cluster that is not ACTIVE is AWS_UNAVAILABLE', async () => {
    const cache = createEksClusterInfoCache({ clock: createManualClock(0) })
    await assert.rejects(cache.describe(client(), 'being-built'), (e) => e instanceof UpstreamError && e.code === 'AWS_UNAVAILABLE')
  })

  test('a signature AWS refuses is AWS_CREDENTIALS', async () => {
    const cache = createEksClusterInfoCache({ clock: createManualClock(0) })
    await assert.rejects(cache.describe(client('wrong'), 'demo'), (e) => e instanceof UpstreamError && e.code === 'AWS_CREDENTIALS')
  })
})
