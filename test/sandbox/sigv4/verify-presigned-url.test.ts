import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import { createManualClock } from '../../../src/clock.js'
import { createCredentialStore, type SandboxCredential } from '../../../src/sandbox/sigv4/credential-store.js'
import { verifyPresignedUrl, type SigV4Result } from '../../../src/sandbox/sigv4/verify-sigv4.js'
import { NodeSha256 } from '../../../src/aws/node-sha256.js'

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0)
const TEMP: SandboxCredential = {
  accessKeyId: 'ASIAPRESIGNTEMP0001',
  secretAccessKey: 'presign-secret',
  sessionToken: 'tok/en+value==',
  principalArn: 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock',
  expiresAt: T0 + 3600_000,
}
const STATIC: SandboxCredential = { accessKeyId: 'AKIAPRESIGNSTATIC01', secretAccessKey: 'static', principalArn: 'arn:aws:iam::111122223333:user/x' }
const HOST = 'sts.eu-west-1.amazonaws.com'

async function presign(
  o: { credential?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }; expiresIn?: number; service?: string } = {},
): Promise<URL> {
  const signer = new SignatureV4({ credentials: o.credential ?? TEMP, region: 'eu-west-1', service: o.service ?? 'sts', sha256: NodeSha256 })
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: HOST,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: HOST, 'x-k8s-aws-id': 'demo-cluster' },
  })
  const signed = await signer.presign(request, { expiresIn: o.expiresIn ?? 60, signingDate: new Date(T0) })
  const qs = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&')
  return new URL(`https://${HOST}/?${qs}`)
}

const HEADERS = { host: HOST, 'x-k8s-aws-id': 'demo-cluster' }

function verify(url: URL, now = T0, headers: Record<string, string> = HEADERS, method = 'GET'): SigV4Result {
  return verifyPresignedUrl(url, headers, {
    store: createCredentialStore([TEMP, STATIC]),
    service: 'sts',
    method,
    clock: createManualClock(now),
  })
}

function refused(result: SigV4Result): string {
  assert.equal(result.ok, false, 'expected refusal')
  return result.ok ? '' : result.reason
}

function withParam(url: URL, key: string, value: string | undefined): URL {
  const copy = new URL(url)
  if (value === undefined) copy.searchParams.delete(key)
  else copy.searchParams.set(key, value)
  return copy
}

describe('verifyPresignedUrl', () => {
  it('accepts a URL presigned by @smithy/signature-v4 with a signed x-k8s-aws-id header', async () => {
    const result = verify(await presign())
    assert.equal(result.ok, true)
    if (result.ok) {
      assert.equal(result.credential.principalArn, TEMP.principalArn)
      assert.equal(result.region, 'eu-west-1')
    }
  })

  it('accepts static credentials without a token', async () => {
    assert.equal(verify(await presign({ credential: STATIC })).ok, true)
  })

  it('honours X-Amz-Expires against X-Amz-Date', async () => {
    const url = await presign({ expiresIn: 60 })
    assert.equal(verify(url, T0 + 60_000).ok, true)
    assert.equal(refused(verify(url, T0 + 61_000)), 'presign_expired')
  })

  it('refuses an X-Amz-Date far in the future', async () => {
    assert.equal(refused(verify(await presign(), T0 - 10 * 60_000)), 'skew')
  })

  it('refuses X-Amz-Expires outside 1..604800 and missing parameters', async () => {
    const url = await presign()
    assert.equal(refused(verify(withParam(url, 'X-Amz-Expires', '604801'))), 'incomplete')
    assert.equal(refused(verify(withParam(url, 'X-Amz-Expires', '0'))), 'incomplete')
    assert.equal(refused(verify(withParam(url, 'X-Amz-Signature', undefined))), 'incomplete')
    assert.equal(refused(verify(withParam(url, 'X-Amz-Algorithm', undefined))), 'missing')
    assert.equal(refused(verify(withParam(url, 'X-Amz-Algorithm', 'AWS4-HMAC-SHA1'))), 'incomplete')
  })

  it('refuses tampering with query, expiry, header, method, token and signature', async () => {
    const url = await presign()
    assert.equal(refused(verify(withParam(url, 'Action', 'AssumeRole'))), 'bad_signature')
    assert.equal(refused(verify(withParam(url, 'X-Amz-Expires', '600'))), 'bad_signature')
    assert.equal(refused(verify(url, T0, { ...HEADERS, 'x-k8s-aws-id': 'other-cluster' })), 'bad_signature')
    assert.equal(refused(verify(url, T0, { host: HOST })), 'bad_signature')
    assert.equal(refused(verify(url, T0, HEADERS, 'POST')), 'bad_signature')
    assert.equal(refused(verify(withParam(url, 'X-Amz-Security-Token', 'forged'))), 'bad_signature')
    const sig = url.searchParams.get('X-Amz-Signature') ?? ''
    assert.equal(refused(verify(withParam(url, 'X-Amz-Signature', sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0')))), 'bad_signature')
  })

  it('refuses a URL signed for another service, an unknown key or a wrong secret', async () => {
    assert.equal(refused(verify(await presign({ service: 'eks' }))), 'bad_scope')
    assert.equal(refused(verify(await presign({ credential: { accessKeyId: 'ASIANOBODY', secretAccessKey: 'x', sessionToken: 't' } }))), 'unknown_key')
    assert.equal(refused(verify(await presign({ credential: { ...TEMP, secretAccessKey: 'wrong' } }))), 'bad_signature')
  })

  it('refuses a missing or wrong session token for temporary credentials', async () => {
    const noToken = await presign({ credential: { accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey } })
    assert.equal(refused(verify(noToken)), 'bad_token')
    assert.equal(refused(verify(await presign({ credential: { ...TEMP, sessionToken: 'other' } }))), 'bad_token')
  })

  it('refuses expired credentials', async () => {
    assert.equal(refused(verify(await presign({ expiresIn: 7200 }), T0 + 3600_000)), 'expired_credentials')
  })
})
