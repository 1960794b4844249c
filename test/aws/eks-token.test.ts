import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createEksTokenSource } from '../../src/aws/eks-token.js'
import { createManualClock } from '../../src/clock.js'
import { UpstreamError } from '../../src/errors.js'

const START = Date.UTC(2026, 10, 29, 8, 0, 0)
const credentials = async () => ({ accessKeyId: 'AKIAGATEWAYEXAMPLE01', secretAccessKey: 'secret-for-tests' })

function decode(token: string): URL {
  assert.ok(token.startsWith('k8s-aws-v1.'), 'expected: token.startsWith(\'k8s-aws-v1.\')')
  const payload = token.slice('k8s-aws-v1.'.length)
  assert.match(payload, /^[A-Za-z0-9_-]+$/, 'unpadded base64url')
  return new URL(Buffer.from(payload, 'base64url').toString('utf8'))
}

describe('createEksTokenSource', () => {
  test('builds k8s-aws-v1 + unpadded base64url of a presigned STS GetCallerIdentity URL', async () => {
    const clock = createManualClock(START)
    const { token, expiresAt } = await createEksTokenSource({ credentials, region: 'us-east-1', clock }).token('demo')
    const url = decode(token)
    assert.equal(url.protocol, 'https:')
    assert.equal(url.host, 'sts.us-east-1.amazonaws.com')
    assert.equal(url.pathname, '/')
    const q = url.searchParams
    assert.equal(q.get('Action'), 'GetCallerIdentity')
    assert.equal(q.get('Version'), '2011-06-15')
    assert.equal(q.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256')
    assert.equal(q.get('X-Amz-Credential'), 'AKIAGATEWAYEXAMPLE01/20261129/us-east-1/sts/aws4_request')
    assert.equal(q.get('X-Amz-Date'), '20261129T080000Z')
    assert.equal(q.get('X-Amz-Expires'), '60')
    assert.equal(q.get('X-Amz-SignedHeaders'), 'host;x-k8s-aws-id')
    assert.match(q.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/)
    assert.equal(expiresAt, START + 14 * 60_000)
    assert.equal([...q.keys()].at(-1), 'X-Amz-Signature')
  })

  test('the signature depends on the cluster name (the signed x-k8s-aws-id header)', async () => {
    const source = createEksTokenSource({ credentials, region: 'us-east-1', clock: createManualClock(START) })
    const a = decode((await source.token('demo')).token).searchParams.get('X-Amz-Signature')
    const b = decode((await source.token('other')).token).searchParams.get('X-Amz-Signature')
    assert.notEqual(a, b)
  })

  test('carries the session token of temporary credentials and honours a custom STS endpoint', async () => {
    const source = createEksTokenSource({
      credentials: async () => ({ accessKeyId: 'ASIATEMP', secretAccessKey: 's', sessionToken: 'session-token' }),
      region: 'eu-west-1', clock: createManualClock(START), stsEndpoint: new URL('https://sts.eu-west-1.amazonaws.com/'),
    })
    const url = decode((await source.token('demo')).token)
    assert.equal(url.host, 'sts.eu-west-1.amazonaws.com')
    assert.equal(url.searchParams.get('X-Amz-Security-Token'), 'session-token')
  })

  test('caches per cluster for at most 14 minutes and regenerates before expiry', async () => {
    const clock = createManualClock(START)
    const source = createEksTokenSource({ credentials, region: 'us-east-1', clock })
    const first = await source.token('demo')
    clock.advance(5 * 60_000)
    assert.equal((await source.token('demo')).token, first.token)
    clock.advance(8 * 60_000) // 13 min: inside the refresh margin before the 14-minute expiry
    const second = await source.token('demo')
    assert.notEqual(second.token, first.token)
    assert.equal(decode(second.token).searchParams.get('X-Amz-Date'), '20261129T081300Z')
    assert.equal(second.expiresAt, START + 27 * 60_000)
    clock.advance(60_000)
    assert.equal((await source.token('demo')).token, second.token)
  })

  test('never outlives the credentials it was signed with', async () => {
    const clock = createManualClock(START)
    const source = createEksTokenSource({
      credentials: async () => ({ ...(await credentials()), expiration: new Date(START + 5 * 60_000) }),
      region: 'us-east-1', clock,
    })
    assert.equal((await source.token('demo')).expiresAt, START + 5 * 60_000)
  })

  test('credential failures become UpstreamError AWS_CREDENTIALS and are not cached', async () => {
    let fail = true
    const source = createEksTokenSource({
      credentials: async () => { if (fail) throw new Error('no credentials'); return credentials() },
      region: 'us-east-1', clock: createManualClock(START),
    })
    await assert.rejects(source.token('demo'), (e) => e instanceof UpstreamError && e.code === 'AWS_CREDENTIALS')
    fail = false
    assert.ok((await source.token('demo')).token.startsWith('k8s-aws-v1.'), 'expected: (await source.token(\'demo\')).token.startsWith(\'k8s-aws-v1.\')')
  })
})
