import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startKubeHarness, type KubeHarness } from './kube-harness.js'
import { createTeardown } from '../../support/teardown.js'

const PAYMENTS_POD = 'payments-5c8d7f9b4-x2k9p'

describe('kube-api stand-in resources', () => {
  let h: KubeHarness
  let token: string
  const getJson = async (path: string) => {
    const res = await h.get(path, token)
    return { status: res.status, contentType: res.contentType, body: JSON.parse(res.body) }
  }
  const names = (list: { items: Array<{ metadata: { name: string } }> }) => list.items.map((i) => i.metadata.name)
  const teardown = createTeardown()
  before(async () => {
    h = await startKubeHarness()
    teardown.add(() => h.server.close())
    token = await h.token()
  })
  after(() => teardown.run())

  test('lists come in typed envelopes with a resourceVersion and bare items', async () => {
    const pods = await getJson('/api/v1/namespaces/shop/pods')
    assert.equal(pods.contentType, 'application/json')
    assert.equal(pods.body.kind, 'PodList')
    assert.equal(pods.body.apiVersion, 'v1')
    assert.match(pods.body.metadata.resourceVersion, /^\d+$/)
    assert.deepEqual(names(pods.body), ['checkout-7d9f8b6c5d-h4x7q', 'checkout-7d9f8b6c5d-m2p9z', PAYMENTS_POD])
    assert.equal(pods.body.items[0].kind, undefined)
    const deployments = await getJson('/apis/apps/v1/namespaces/shop/deployments')
    assert.equal(deployments.body.kind, 'DeploymentList')
    assert.equal(deployments.body.apiVersion, 'apps/v1')
  })

  test('the crash-looping pod shows CrashLoopBackOff and a secretKeyRef', async () => {
    const pod = await getJson(`/api/v1/namespaces/shop/pods/${PAYMENTS_POD}`)
    assert.equal(pod.body.kind, 'Pod')
    assert.equal(pod.body.status.containerStatuses[0].state.waiting.reason, 'CrashLoopBackOff')
    const env = pod.body.spec.containers[0].env
    assert.deepEqual(env.find((e: { name: string }) => e.name === 'DB_PASSWORD').valueFrom, { secretKeyRef: { name: 'payments-db', key: 'password' } })
  })

  test('label selectors: equality, inequality, set-based and existence', async () => {
    assert.deepEqual(names((await getJson('/api/v1/namespaces/shop/pods?labelSelector=app%3Dpayments')).body), [PAYMENTS_POD])
    assert.equal((await getJson('/api/v1/namespaces/shop/pods?labelSelector=app!%3Dpayments')).body.items.length, 2)
    assert.equal((await getJson('/api/v1/namespaces/shop/pods?labelSelector=app%20in%20(checkout,payments)')).body.items.length, 3)
    assert.equal((await getJson('/api/v1/namespaces/shop/pods?labelSelector=app%20notin%20(checkout)')).body.items.length, 1)
    assert.equal((await getJson('/api/v1/namespaces/shop/pods?labelSelector=!app')).body.items.length, 0)
    assert.equal((await getJson('/api/v1/namespaces/shop/pods?labelSelector=app,pod-template-hash%3D7d9f8b6c5d')).body.items.length, 2)
    assert.equal((await getJson('/api/v1/namespaces/shop/pods?labelSelector=%3D%3Dbad')).status, 400)
  })

  test('field selectors: name, namespace, phase, involvedObject.name; unknown fields are refused', async () => {
    assert.deepEqual(names((await getJson(`/api/v1/namespaces/shop/pods?fieldSelector=metadata.name%3D${PAYMENTS_POD}`)).body), [PAYMENTS_POD])
    assert.equal((await getJson('/api/v1/pods?fieldSelector=metadata.namespace%3Dmonitoring')).body.items.length, 1)
    assert.equal((await getJson('/api/v1/namespaces/shop/pods?fieldSelector=status.phase!%3DRunning')).body.items.length, 0)
    const events = await getJson(`/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3D${PAYMENTS_POD},type%3DWarning`)
    assert.deepEqual(events.body.items.map((e: { reason: string }) => e.reason), ['BackOff'])
    const bad = await getJson('/api/v1/namespaces/shop/pods?fieldSelector=spec.secret%3Dx')
    assert.equal(bad.status, 400)
    assert.equal(bad.body.message, 'field label not supported: spec.secret')
  })

  test('limit and continue page through a list; a continue token is bound to its query', async () => {
    const first = await getJson('/api/v1/namespaces/shop/pods?limit=2')
    assert.equal(first.body.items.length, 2)
    assert.equal(first.body.metadata.remainingItemCount, 1)
    const next = await getJson(`/api/v1/namespaces/shop/pods?limit=2&continue=${first.body.metadata.continue}`)
    assert.deepEqual(names(next.body), [PAYMENTS_POD])
    assert.equal(next.body.metadata.continue, undefined)
    const crossed = await getJson(`/api/v1/namespaces/monitoring/pods?limit=2&continue=${first.body.metadata.continue}`)
    assert.equal(crossed.status, 400)
  })

  test('not found is a 404 Status; unknown paths too', async () => {
    const missing = await getJson('/apis/apps/v1/namespaces/shop/deployments/nope')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.message, 'deployments.apps "nope" not found')
    assert.equal((await h.get('/api/v1/namespaces/shop/widgets', token)).status, 404)
  })

  test('pod logs: text/plain with tailLines, sinceSeconds, limitBytes, previous and container checks', async () => {
    const base = `/api/v1/namespaces/shop/pods/${PAYMENTS_POD}/log`
    const all = await h.get(base, token)
    assert.equal(all.contentType, 'text/plain')
    assert.match(all.body, /password authentication failed/)
    assert.equal((await h.get(`${base}?tailLines=2`, token)).body.trim().split('\n').length, 2)
    assert.equal((await h.get(`${base}?limitBytes=10`, token)).body.length, 10)
    assert.equal((await h.get(`${base}?sinceSeconds=1`, token)).body, '')
    assert.equal((await h.get(`${base}?previous=true`, token)).status, 200)
    assert.equal((await h.get(`${base}?container=other`, token)).status, 400)
    assert.equal((await h.get(`${base}?tailLines=-1`, token)).status, 422)
    const checkout = await h.get('/api/v1/namespaces/shop/pods/checkout-7d9f8b6c5d-h4x7q/log?tailLines=5', token)
    assert.equal(checkout.body.trim().split('\n').length, 5)
  })

  test('rollout restart patches the template annotation and bumps the generation', async () => {
    const before = await getJson('/apis/apps/v1/namespaces/shop/deployments/payments')
    const patch = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-29T08:00:00Z' } } } } }
    const res = await h.get('/apis/apps/v1/namespaces/shop/deployments/payments', token, { method: 'PATCH', body: patch, contentType: 'application/strategic-merge-patch+json' })
    assert.equal(res.status, 200)
    const after = JSON.parse(res.body)
    assert.equal(after.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], '2026-11-29T08:00:00Z')
    assert.equal(after.metadata.generation, before.body.metadata.generation + 1)
    assert.equal(after.spec.template.spec.containers[0].name, 'payments')
    const unsupported = await h.get('/apis/apps/v1/namespaces/shop/deployments/payments', token, { method: 'PATCH', body: [], contentType: 'application/json-patch+json' })
    assert.equal(unsupported.status, 415)
  })

  test('scale via PUT honours resourceVersion (409 when stale) and refuses negative replicas', async () => {
    const path = '/apis/apps/v1/namespaces/shop/deployments/checkout/scale'
    const current = await getJson(path)
    assert.equal(current.body.kind, 'Scale')
    const stale = await h.get(path, token, { method: 'PUT', body: { ...current.body, metadata: { ...current.body.metadata, resourceVersion: '1' }, spec: { replicas: 4 } }, contentType: 'application/json' })
    assert.equal(stale.status, 409)
    assert.equal(JSON.parse(stale.body).reason, 'Conflict')
    const ok = await h.get(path, token, { method: 'PUT', body: { ...current.body, spec: { replicas: 4 } }, contentType: 'application/json' })
    assert.equal(ok.status, 200)
    assert.equal((await getJson('/apis/apps/v1/namespaces/shop/deployments/checkout')).body.spec.replicas, 4)
    const negative = await h.get(path, token, { method: 'PATCH', body: { spec: { replicas: -1 } } })
    assert.equal(negative.status, 422)
  })

  test('delete pod removes it; a second delete is 404', async () => {
    const path = '/api/v1/namespaces/shop/pods/checkout-7d9f8b6c5d-m2p9z'
    const res = await h.get(path, token, { method: 'DELETE' })
    assert.equal(res.status, 200)
    assert.ok(JSON.parse(res.body).metadata.deletionTimestamp, 'JSON.parse(res.body).metadata.deletionTimestamp')
    assert.equal((await h.get(path, token, { method: 'DELETE' })).status, 404)
    assert.equal((await h.get(path, token)).status, 404)
  })

  test('the request log records method, path, user and status but never the token', () => {
    const log = h.server.requests()
    assert.ok(log.length > 10, 'log.length > 10')
    assert.ok(!JSON.stringify(log).includes(token.slice(20, 60)), '!JSON.stringify(log).includes(token.slice(20, 60))')
  })
})
