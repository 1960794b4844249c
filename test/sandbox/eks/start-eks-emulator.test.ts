import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { DescribeClusterCommand, EKSClient, ListClustersCommand, ResourceNotFoundException } from '@aws-sdk/client-eks'
import { createManualClock, systemClock } from '../../../src/clock.js'
import { startEksEmulator, type EksEmulator } from '../../../src/sandbox/eks/start-eks-emulator.js'
import { createCredentialStore } from '../../../src/sandbox/sigv4/credential-store.js'
import { createTrail, type Trail } from '../../../src/sandbox/trail.js'
import { createTeardown } from '../../support/teardown.js'

const CREDENTIAL = { accessKeyId: 'AKIAGATEWAYEXAMPLE01', secretAccessKey: 'gateway-secret', principalArn: 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock' }
const CA = '-----BEGIN CERTIFICATE-----\nMIIBdemo\n-----END CERTIFICATE-----\n'

describe('EKS emulator with the real EKSClient', () => {
  let emulator: EksEmulator
  let trail: Trail
  const client = (region = 'us-east-1', secretAccessKey = CREDENTIAL.secretAccessKey) =>
    new EKSClient({ region, endpoint: emulator.endpoint, credentials: { accessKeyId: CREDENTIAL.accessKeyId, secretAccessKey }, maxAttempts: 1 })

  const teardown = createTeardown()
  before(async () => {
    // The SDK signs with the real time, so the emulator's clock follows it here.
    const clock = systemClock
    trail = createTrail(createManualClock(0))
    emulator = await startEksEmulator({
      store: createCredentialStore([CREDENTIAL]), trail, clock,
      clusters: [
        { name: 'demo', region: 'us-east-1', endpoint: 'https://127.0.0.1:6443', caPem: CA },
        { name: 'analytics', region: 'us-east-1', endpoint: 'https://127.0.0.1:6444', caPem: CA },
        { name: 'eu-only', region: 'eu-west-1', endpoint: 'https://127.0.0.1:6445', caPem: CA },
      ],
    })
    teardown.add(() => emulator.close())
  })
  after(() => teardown.run())

  test('DescribeCluster returns endpoint, base64 PEM CA, ARN and ACTIVE status', async () => {
    const { cluster } = await client().send(new DescribeClusterCommand({ name: 'demo' }))
    assert.equal(cluster?.name, 'demo')
    assert.equal(cluster?.arn, 'arn:aws:eks:us-east-1:111122223333:cluster/demo')
    assert.equal(cluster?.endpoint, 'https://127.0.0.1:6443')
    assert.equal(cluster?.status, 'ACTIVE')
    assert.equal(Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString('utf8'), CA)
    assert.ok(cluster?.createdAt instanceof Date, 'cluster?.createdAt instanceof Date')
    const entry = trail.entries().at(-1)
    assert.equal(entry?.action, 'DescribeCluster')
    assert.equal(entry?.principalArn, CREDENTIAL.principalArn)
    assert.equal(entry?.outcome, 'ok')
  })

  test('ListClusters lists the region\'s clusters and paginates', async () => {
    const all = await client().send(new ListClustersCommand({}))
    assert.deepEqual(all.clusters, ['analytics', 'demo'])
    const first = await client().send(new ListClustersCommand({ maxResults: 1 }))
    assert.deepEqual(first.clusters, ['analytics'])
    const second = await client().send(new ListClustersCommand({ maxResults: 1, nextToken: first.nextToken }))
    assert.deepEqual(second.clusters, ['demo'])
    assert.equal(second.nextToken, undefined)
    assert.deepEqual((await client('eu-west-1').send(new ListClustersCommand({}))).clusters, ['eu-only'])
  })

  test('an unknown cluster, or one in another region, is ResourceNotFoundException', async () => {
    await assert.rejects(client().send(new DescribeClusterCommand({ name: 'nope' })), (e) => e instanceof ResourceNotFoundException && e.$metadata.httpStatusCode === 404)
    await assert.rejects(client().send(new DescribeClusterCommand({ name: 'eu-only' })), ResourceNotFoundException)
    assert.equal(trail.entries().at(-1)?.outcome, 'ResourceNotFoundException')
  })

  test('a bad signature is refused and recorded without a principal', async () => {
    await assert.rejects(client('us-east-1', 'wrong-secret').send(new DescribeClusterCommand({ name: 'demo' })), (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e.name === 'InvalidSignatureException' && e.$metadata?.httpStatusCode === 403)
    const entry = trail.entries().at(-1)
    assert.equal(entry?.outcome, 'InvalidSignatureException')
    assert.equal(entry?.principalArn, '')
  })
})
