import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createEksTokenSource } from '../../src/aws/eks-token.js'
import { createKubeApis, createKubeClientSource } from '../../src/aws/kube-client.js'
import { createKubeCertificates } from '../../src/sandbox/kube-api/kube-certificates.js'
import { GATEWAY, startKubeHarness, type KubeHarness } from '../sandbox/kube-api/kube-harness.js'
import { createTeardown } from '../support/teardown.js'

describe('kube clients', () => {
  let h: KubeHarness
  const teardown = createTeardown()
  before(async () => {
    h = await startKubeHarness()
    teardown.add(() => h.server.close())
  })
  after(() => teardown.run())
  const caData = () => Buffer.from(h.server.caPem).toString('base64')

  test('talk to the API server with the token, TLS verified against the cluster CA', async () => {
    const apis = createKubeApis({ server: h.server.url, caData: caData(), token: await h.token() })
    const pods = await apis.core.listNamespacedPod({ namespace: 'shop' })
    assert.equal(pods.items.length, 3)
  })

  test('refuse a server whose certificate another CA signed', async () => {
    const other = await createKubeCertificates(h.clock, 'impostor')
    const apis = createKubeApis({ server: h.server.url, caData: Buffer.from(other.caPem).toString('base64'), token: await h.token() })
    const before = h.server.requests().length
    await assert.rejects(apis.core.listNamespacedPod({ namespace: 'shop' }))
    assert.equal(h.server.requests().length, before, 'no request completed over the unverified connection')
  })

  test('the client source rebuilds clients when the token is regenerated', async () => {
    const source = createKubeClientSource(createEksTokenSource({
      credentials: async () => ({ accessKeyId: GATEWAY.accessKeyId, secretAccessKey: GATEWAY.secretAccessKey }),
      region: 'us-east-1', clock: h.clock,
    }))
    const info = { name: 'demo', arn: 'arn:aws:eks:us-east-1:111122223333:cluster/demo', endpoint: h.server.url, caData: caData(), version: '1.30' }
    const first = await source.apis(info)
    assert.equal(await source.apis(info), first)
    h.clock.advance(16 * 60_000)
    const second = await source.apis(info)
    assert.notEqual(second, first)
    assert.equal((await second.core.listNamespacedPod({ namespace: 'shop' })).items.length, 3)
    await assert.rejects(first.core.listNamespacedPod({ namespace: 'shop' }), (e: { code?: number }) => e.code === 401)
  })
})
