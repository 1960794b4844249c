import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createManualClock } from '../../../src/clock.js'
import { canonicalizeArn } from '../../../src/sandbox/kube-api/verify-eks-token.js'
import { GATEWAY, GATEWAY_MAPPING, START, STRANGER, startKubeHarness, type KubeHarness } from './kube-harness.js'
import { createTeardown } from '../../support/teardown.js'

const PODS = '/api/v1/namespaces/shop/pods'

/** Decodes a token, lets `edit` change the presigned URL, and re-encodes it (unpadded base64url). */
function rewrite(token: string, edit: (url: string) => string): string {
  const url = Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8')
  return 'k8s-aws-v1.' + Buffer.from(edit(url), 'utf8').toString('base64url')
}

describe('kube-api stand-in authentication (aws-iam-authenticator rules)', () => {
  let h: KubeHarness
  let token: string
  const teardown = createTeardown()
  before(async () => {
    h = await startKubeHarness()
    teardown.add(() => h.server.close())
    token = await h.token()
  })
  after(() => teardown.run())

  test('a real token for this cluster is accepted and mapped to the configured user', async () => {
    const res = await h.get(PODS, token)
    assert.equal(res.status, 200)
    assert.equal(h.server.requests().at(-1)?.user, 'airlock-gateway')
  })

  const refusals: Array<[string, () => Promise<string>]> = [
    ['a token for another cluster', () => h.token(GATEWAY, 'other-cluster')],
    ['an expired token (X-Amz-Date more than 15 minutes ago)', () => h.token(GATEWAY, 'demo', createManualClock(START - 16 * 60_000))],
    ['a tampered signature', async () => rewrite(token, (u) => u.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`))],
    ['an extra query parameter', async () => rewrite(token, (u) => `${u}&Foo=bar`)],
    ['an extra allow-listed parameter that is not signed (duplicated Action)', async () => rewrite(token, (u) => `${u}&Action=GetCallerIdentity`)],
    ['a parameter repeated with other case', async () => rewrite(token, (u) => `${u}&action=GetCallerIdentity`)],
    ['another action', async () => rewrite(token, (u) => u.replace('Action=GetCallerIdentity', 'Action=GetSessionToken'))],
    ['a non-STS host', async () => rewrite(token, (u) => u.replace('sts.us-east-1.amazonaws.com', 'sts.evil.example'))],
    ['an STS host with a port', async () => rewrite(token, (u) => u.replace('sts.us-east-1.amazonaws.com', 'sts.us-east-1.amazonaws.com:8443'))],
    ['the http scheme', async () => rewrite(token, (u) => u.replace('https://', 'http://'))],
    ['a path other than /', async () => rewrite(token, (u) => u.replace('.com/?', '.com/x?'))],
    ['padded base64', async () => `${token}${'='.repeat((4 - ((token.length - 11) % 4)) % 4 || 4)}`],
    ['standard (not url-safe) base64', async () => 'k8s-aws-v1.' + Buffer.from(Buffer.from(token.slice(11), 'base64url')).toString('base64')],
    ['a missing prefix', async () => token.slice('k8s-aws-v1.'.length)],
    ['the cluster header not signed', async () => rewrite(token, (u) => u.replace('X-Amz-SignedHeaders=host%3Bx-k8s-aws-id', 'X-Amz-SignedHeaders=host'))],
    ['X-Amz-Expires above 900', async () => rewrite(token, (u) => u.replace('X-Amz-Expires=60', 'X-Amz-Expires=901'))],
    ['credentials the sandbox never issued', async () => {
      const unknown = { ...GATEWAY, accessKeyId: 'AKIAUNKNOWNEXAMPLE01' }
      return h.token(unknown)
    }],
    ['a token over 4 KiB', async () => rewrite(token, (u) => `${u}&X-Amz-Security-Token=${'a'.repeat(4096)}`)],
  ]
  for (const [name, make] of refusals) {
    test(`refuses ${name} with 401`, async () => {
      const bad = await make()
      assert.notEqual(bad, token)
      const res = await h.get(PODS, bad)
      assert.equal(res.status, 401)
      assert.equal(JSON.parse(res.body).reason, 'Unauthorized')
      assert.ok(!res.body.includes('items'), "!res.body.includes('items')")
    })
  }

  test('refuses a missing Authorization header', async () => {
    const res = await h.get(PODS, '')
    assert.equal(res.status, 401)
  })

  test('accepts a token up to 15 minutes old and refuses it after', async () => {
    const clock = createManualClock(START)
    const fresh = await h.token(GATEWAY, 'demo', clock)
    h.clock.advance(14 * 60_000)
    assert.equal((await h.get(PODS, fresh)).status, 200)
    h.clock.advance(2 * 60_000)
    assert.equal((await h.get(PODS, fresh)).status, 401)
    h.clock.set(START)
  })

  test('an identity aws-auth does not map is not authenticated (401, as EKS answers)', async () => {
    const res = await h.get(PODS, await h.token(STRANGER))
    assert.equal(res.status, 401)
  })
})

describe('kube-api stand-in authorization', () => {
  let h: KubeHarness
  let token: string
  const teardown = createTeardown()
  before(async () => {
    h = await startKubeHarness()
    teardown.add(() => h.server.close())
    token = await h.token()
  })
  after(() => teardown.run())

  test('RBAC denial is a 403 Status naming user, verb, resource and namespace', async () => {
    const res = await h.get('/api/v1/namespaces/kube-system/secrets', token)
    assert.equal(res.status, 403)
    const status = JSON.parse(res.body)
    assert.equal(status.kind, 'Status')
    assert.equal(status.reason, 'Forbidden')
    assert.equal(status.message, 'secrets is forbidden: User "airlock-gateway" cannot list resource "secrets" in API group "" in the namespace "kube-system"')
  })

  test('cluster-scoped and all-namespace lists need a "*" namespace rule', async () => {
    assert.equal((await h.get('/api/v1/nodes', token)).status, 200)
    assert.equal((await h.get('/apis/apps/v1/deployments', token)).status, 403)
  })

  test('writes need a write rule: scale in shop allowed, in monitoring forbidden', async () => {
    const scale = { spec: { replicas: 3 } }
    const shop = await h.get('/apis/apps/v1/namespaces/shop/deployments/checkout/scale', token, { method: 'PATCH', body: scale })
    assert.equal(shop.status, 200)
    assert.equal(JSON.parse(shop.body).spec.replicas, 3)
    const mon = await h.get('/apis/apps/v1/namespaces/monitoring/deployments/prometheus/scale', token, { method: 'PATCH', body: scale })
    assert.equal(mon.status, 403)
    assert.match(JSON.parse(mon.body).message, /cannot patch resource "deployments\/scale" in API group "apps" in the namespace "monitoring"/)
  })

  test('a role mapped with no rules is forbidden everything', async () => {
    const bare = await startKubeHarness([{ ...GATEWAY_MAPPING, rules: [] }])
    try {
      const res = await bare.get(PODS, await bare.token())
      assert.equal(res.status, 403)
    } finally {
      await bare.server.close()
    }
  })

  test('assumed-role ARNs are canonicalised to the role ARN like the authenticator', () => {
    assert.equal(canonicalizeArn('arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock'), 'arn:aws:iam::111122223333:role/airlock-gateway')
    assert.equal(canonicalizeArn('arn:aws:iam::111122223333:user/alice'), 'arn:aws:iam::111122223333:user/alice')
    assert.equal(canonicalizeArn('arn:aws:sts::111122223333:assumed-role/only-role'), undefined)
    assert.equal(canonicalizeArn('arn:aws:s3:::bucket'), undefined)
  })
})
