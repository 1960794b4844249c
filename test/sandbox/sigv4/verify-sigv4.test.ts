import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import { createManualClock } from '../../../src/clock.js'
import { createCredentialStore, type SandboxCredential } from '../../../src/sandbox/sigv4/credential-store.js'
import { mapSigV4Failure } from '../../../src/sandbox/sigv4/sigv4-failure.js'
import { verifySigV4, type SignedRequest, type SigV4Result } from '../../../src/sandbox/sigv4/verify-sigv4.js'
import { NodeSha256 } from '../../../src/aws/node-sha256.js'

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0)
const STATIC: SandboxCredential = {
  accessKeyId: 'AKIASANDBOXSTATIC01',
  secretAccessKey: 'static-secret-key-for-tests-only',
  principalArn: 'arn:aws:iam::111122223333:user/airlock',
}
const TEMP: SandboxCredential = {
  accessKeyId: 'ASIASANDBOXTEMP0001',
  secretAccessKey: 'temporary-secret-key-for-tests',
  sessionToken: 'session-token-value/with+chars==',
  principalArn: 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock',
  sourceIdentity: 'alice@example.com',
  expiresAt: T0 + 3600_000,
}

function store() {
  return createCredentialStore([STATIC, TEMP])
}

interface SignOptions {
  credential?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  service?: string
  region?: string
  date?: number
  method?: string
  path?: string
  query?: Record<string, string | string[]>
  body?: string
  headers?: Record<string, string>
}

async function sign(o: SignOptions = {}): Promise<SignedRequest> {
  const cred = o.credential ?? STATIC
  const signer = new SignatureV4({
    credentials: cred,
    region: o.region ?? 'eu-west-1',
    service: o.service ?? 'rds-data',
    sha256: NodeSha256,
  })
  const body = o.body ?? '{"sql":"select 1"}'
  const request = new HttpRequest({
    method: o.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4510,
    path: o.path ?? '/Execute',
    query: o.query ?? {},
    headers: { host: '127.0.0.1:4510', 'content-type': 'application/json', ...o.headers },
    body,
  })
  const signed = await signer.sign(request, { signingDate: new Date(o.date ?? T0) })
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v
  const qs = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(String(x))}`))
    .join('&')
  return { method: signed.method, rawUrl: signed.path + (qs === '' ? '' : `?${qs}`), headers, body: new TextEncoder().encode(body) }
}

function verify(req: SignedRequest, service = 'rds-data', now = T0): SigV4Result {
  return verifySigV4(req, { store: store(), service, clock: createManualClock(now) })
}

function assertFails(result: SigV4Result, code: string, status?: number): void {
  assert.equal(result.ok, false, 'expected refusal')
  if (result.ok) return
  assert.equal(result.code, code, result.message)
  if (status !== undefined) assert.equal(result.status, status)
}

describe('verifySigV4', () => {
  it('accepts a request signed by @smithy/signature-v4 and reports identity and region', async () => {
    const result = verify(await sign())
    assert.equal(result.ok, true)
    if (!result.ok) return
    assert.equal(result.accessKeyId, STATIC.accessKeyId)
    assert.equal(result.region, 'eu-west-1')
    assert.equal(result.service, 'rds-data')
    assert.equal(result.credential.principalArn, STATIC.principalArn)
  })

  it('accepts temporary credentials with their session token', async () => {
    const result = verify(await sign({ credential: TEMP }))
    assert.equal(result.ok, true)
    if (result.ok) assert.equal(result.credential.sourceIdentity, 'alice@example.com')
  })

  it('accepts sorted multi-value queries and paths needing encoding', async () => {
    const req = await sign({ path: '/clusters/my%20cluster/a:b', query: { b: ['2', '1'], a: 'x y/z*', 'c~': '' }, method: 'GET', body: '' })
    assert.equal(verify(req).ok, true)
  })

  it('accepts headers with runs of spaces', async () => {
    assert.equal(verify(await sign({ headers: { 'x-custom': '  a   b\tc  ' } })).ok, true)
  })

  const tamperings: Array<[string, (r: SignedRequest) => SignedRequest, string]> = [
    ['method', (r) => ({ ...r, method: 'PUT' }), 'InvalidSignatureException'],
    ['path', (r) => ({ ...r, rawUrl: '/BatchExecute' }), 'InvalidSignatureException'],
    ['query', (r) => ({ ...r, rawUrl: `${r.rawUrl}?extra=1` }), 'InvalidSignatureException'],
    ['signed header', (r) => ({ ...r, headers: { ...r.headers, 'content-type': 'text/plain' } }), 'InvalidSignatureException'],
    ['host', (r) => ({ ...r, headers: { ...r.headers, host: '127.0.0.1:4511' } }), 'InvalidSignatureException'],
    ['body', (r) => ({ ...r, body: new TextEncoder().encode('{"sql":"drop table x"}') }), 'InvalidSignatureException'],
    [
      'body and declared hash',
      (r) => {
        const body = new TextEncoder().encode('{"sql":"drop table x"}')
        return { ...r, body, headers: { ...r.headers, 'x-amz-content-sha256': 'a'.repeat(64) } }
      },
      'InvalidSignatureException',
    ],
    ['date', (r) => ({ ...r, headers: { ...r.headers, 'x-amz-date': '20260115T120001Z' } }), 'InvalidSignatureException'],
    ['unsigned payload', (r) => ({ ...r, headers: { ...r.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }), 'InvalidSignatureException'],
    ['added x-amz header', (r) => ({ ...r, headers: { ...r.headers, 'x-amz-target': 'AmazonSSM.SendCommand' } }), 'InvalidSignatureException'],
    [
      'signature',
      (r) => {
        const auth = String(r.headers.authorization)
        const flipped = auth.slice(0, -1) + (auth.endsWith('0') ? '1' : '0')
        return { ...r, headers: { ...r.headers, authorization: flipped } }
      },
      'InvalidSignatureException',
    ],
  ]
  for (const [name, tamper, code] of tamperings) {
    it(`refuses a tampered ${name}`, async () => {
      assertFails(verify(tamper(await sign())), code)
    })
  }

  it('records the signing region and refuses a region swapped after signing', async () => {
    const result = verify(await sign({ region: 'us-east-1' }))
    assert.ok(result.ok, 'expected: result.ok')
    if (result.ok) assert.equal(result.region, 'us-east-1')
    const req = await sign()
    const auth = String(req.headers.authorization).replace('/eu-west-1/', '/us-east-1/')
    assertFails(verify({ ...req, headers: { ...req.headers, authorization: auth } }), 'InvalidSignatureException')
  })

  it('refuses a request signed for another service', async () => {
    const result = verify(await sign({ service: 'ssm' }))
    assertFails(result, 'InvalidSignatureException', 403)
    if (!result.ok) assert.match(result.message, /correct service: 'rds-data'/)
  })

  it('refuses a credential scope from another day', async () => {
    const req = await sign()
    const auth = String(req.headers.authorization).replace('/20260115/', '/20260114/')
    const result = verify({ ...req, headers: { ...req.headers, authorization: auth } })
    assertFails(result, 'InvalidSignatureException')
    if (!result.ok) assert.match(result.message, /Date in Credential scope/)
  })

  it('refuses the wrong secret', async () => {
    const result = verify(await sign({ credential: { accessKeyId: STATIC.accessKeyId, secretAccessKey: 'wrong' } }))
    assertFails(result, 'InvalidSignatureException', 403)
  })

  it('refuses an unknown access key with UnrecognizedClientException 403', async () => {
    assertFails(verify(await sign({ credential: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } })), 'UnrecognizedClientException', 403)
  })

  it('refuses a wrong, missing or unexpected session token', async () => {
    assertFails(verify(await sign({ credential: { ...TEMP, sessionToken: 'other' } })), 'UnrecognizedClientException')
    assertFails(verify(await sign({ credential: { accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey } })), 'UnrecognizedClientException')
    assertFails(verify(await sign({ credential: { ...STATIC, sessionToken: 'surprise' } })), 'UnrecognizedClientException')
  })

  it('refuses a session token header that was not signed', async () => {
    const req = await sign({ credential: TEMP })
    const auth = String(req.headers.authorization).replace(';x-amz-security-token', '')
    assertFails(verify({ ...req, headers: { ...req.headers, authorization: auth } }), 'InvalidSignatureException')
  })

  it('refuses expired temporary credentials', async () => {
    const at = TEMP.expiresAt ?? 0
    const result = verify(await sign({ credential: TEMP, date: at }), 'rds-data', at)
    assertFails(result, 'ExpiredTokenException', 403)
  })

  it('refuses a request with no Authorization header', async () => {
    const req = await sign()
    const { authorization: _drop, ...headers } = req.headers
    assertFails(verify({ ...req, headers }), 'MissingAuthenticationTokenException', 403)
  })

  it('refuses a malformed Authorization header', async () => {
    const req = await sign()
    for (const auth of ['AWS4-HMAC-SHA256 Credential=x', 'Bearer abc', String(req.headers.authorization).replace('SignedHeaders=', 'SignedHeaders=zz;')]) {
      assertFails(verify({ ...req, headers: { ...req.headers, authorization: auth } }), 'IncompleteSignatureException', 400)
    }
  })

  it('refuses a request without x-amz-date or without host signed', async () => {
    const req = await sign()
    const { 'x-amz-date': _d, ...noDate } = req.headers
    assertFails(verify({ ...req, headers: noDate }), 'IncompleteSignatureException')
    const signer = new SignatureV4({ credentials: STATIC, region: 'eu-west-1', service: 'rds-data', sha256: NodeSha256 })
    const unsignedHost = await signer.sign(
      new HttpRequest({ method: 'POST', hostname: '127.0.0.1', path: '/Execute', headers: { 'content-type': 'application/json' }, body: '' }),
      { signingDate: new Date(T0) },
    )
    const headers = { ...unsignedHost.headers, host: '127.0.0.1:4510' }
    assertFails(verify({ method: 'POST', rawUrl: '/Execute', headers, body: new Uint8Array() }), 'InvalidSignatureException')
  })

  it('refuses clock skew beyond five minutes either way', async () => {
    const req = await sign()
    assert.equal(verify(req, 'rds-data', T0 + 4 * 60_000).ok, true)
    const late = verify(req, 'rds-data', T0 + 6 * 60_000)
    assertFails(late, 'InvalidSignatureException', 403)
    if (!late.ok) assert.match(late.message, /^Signature expired: 20260115T120000Z is now earlier than/)
    const early = verify(req, 'rds-data', T0 - 6 * 60_000)
    assertFails(early, 'InvalidSignatureException')
    if (!early.ok) assert.match(early.message, /not yet current/)
  })

  it('maps failures to awsJson and awsQuery names', async () => {
    const result = verify(await sign({ credential: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } }))
    assert.equal(result.ok, false)
    if (result.ok) return
    assert.deepEqual([mapSigV4Failure(result, 'awsJson').code, mapSigV4Failure(result, 'awsJson').status], ['UnrecognizedClientException', 400])
    assert.deepEqual([mapSigV4Failure(result, 'awsQuery').code, mapSigV4Failure(result, 'awsQuery').status], ['InvalidClientTokenId', 403])
    const bad = verify(await sign({ credential: { ...STATIC, secretAccessKey: 'wrong' } }))
    if (!bad.ok) assert.equal(mapSigV4Failure(bad, 'awsQuery').code, 'SignatureDoesNotMatch')
    else assert.fail('expected refusal')
  })

  it('never puts secrets or tokens in messages', async () => {
    const results = [
      verify(await sign({ credential: { ...TEMP, sessionToken: 'other' } })),
      verify(await sign({ credential: { ...STATIC, secretAccessKey: 'wrong' } })),
    ]
    for (const r of results) {
      assert.equal(r.ok, false)
      if (r.ok) continue
      for (const secret of [TEMP.secretAccessKey, TEMP.sessionToken ?? '', STATIC.secretAccessKey, 'other']) assert.ok(!r.message.includes(secret), 'expected: !r.message.includes(secret)')
    }
  })
})
