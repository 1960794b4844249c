import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client'
import { generateKeyPair, SignJWT } from 'jose'
import { startE2E, type E2E } from './support/start-e2e.js'
import { INITIALIZE, postMcp } from './support/raw-http.js'

describe('gateway refuses every bad bearer token with an RFC 6750 challenge', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  const expectInvalid = async (token: string, description: RegExp) => {
    const response = await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${token}` })
    assert.equal(response.status, 401)
    const challenge = response.headers.get('www-authenticate') ?? ''
    assert.match(challenge, /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/)
    assert.match(challenge, /error="invalid_token"/)
    assert.match(challenge, description)
    assert.ok(!response.text.includes(token), 'the body never echoes the token')
    assert.ok(!challenge.includes(token.slice(0, 20)), 'expected: !challenge.includes(token.slice(0, 20))')
  }

  it('no token: 401 with resource_metadata and no error attribute', async () => {
    const response = await postMcp(e2e.gateway.resource, INITIALIZE)
    assert.equal(response.status, 401)
    const challenge = response.headers.get('www-authenticate') ?? ''
    assert.match(challenge, /^Bearer resource_metadata="[^"]+"$/)
    assert.doesNotMatch(challenge, /error=/)
  })

  it('a token in the query string is never accepted', async () => {
    const token = await e2e.token('alice', ['dba'])
    const response = await postMcp(`${e2e.gateway.resource}?access_token=${token}`, INITIALIZE)
    assert.equal(response.status, 401)
    assert.doesNotMatch(response.headers.get('www-authenticate') ?? '', /error=/)
  })

  it('wrong signing key', async () => {
    const { privateKey } = await generateKeyPair('RS256')
    await expectInvalid(await e2e.issuer.mint({ aud: e2e.gateway.audience }, { key: privateKey }), /error_description="[^"]+"/)
  })

  it('wrong issuer', async () => {
    await expectInvalid(await e2e.token('alice', ['dba'], { iss: 'https://evil.example' }), /error_description/)
  })

  it('wrong audience, and audience missing', async () => {
    await expectInvalid(await e2e.issuer.mint({ sub: 'alice', aud: 'https://other.example/mcp' }), /error_description/)
    await expectInvalid(await e2e.issuer.mint({ sub: 'alice', aud: undefined }), /error_description/)
  })

  it('expired, and without exp', async () => {
    const now = Math.floor(e2e.clock.now() / 1000)
    await expectInvalid(await e2e.token('alice', ['dba'], { iat: now - 600, exp: now - 120 }), /expired/i)
    await expectInvalid(await e2e.token('alice', ['dba'], { exp: undefined }), /error_description/)
  })

  it('not yet valid (nbf in the future beyond tolerance)', async () => {
    const now = Math.floor(e2e.clock.now() / 1000)
    await expectInvalid(await e2e.token('alice', ['dba'], { nbf: now + 300 }), /error_description/)
  })

  it('missing sub', async () => {
    await expectInvalid(await e2e.token('alice', ['dba'], { sub: undefined }), /error_description/)
  })

  it('alg none', async () => {
    await expectInvalid(e2e.issuer.mintUnsecured({ sub: 'alice', groups: ['dba'], aud: e2e.gateway.audience }), /error_description/)
  })

  it('HS256 signed with the public key as the HMAC secret', async () => {
    const jwk = e2e.issuer.publicJwk()
    const secret = new TextEncoder().encode(JSON.stringify(jwk))
    const now = Math.floor(e2e.clock.now() / 1000)
    const forged = await new SignJWT({ sub: 'alice', groups: ['dba'] })
      .setProtectedHeader({ alg: 'HS256', kid: e2e.issuer.currentKid })
      .setIssuer(e2e.issuer.issuer)
      .setAudience(e2e.gateway.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(secret)
    await expectInvalid(forged, /error_description/)
  })

  it('jku, jwk and x5u headers are refused (keys are never taken from the token)', async () => {
    for (const header of [{ jku: 'http://127.0.0.1:1/jwks' }, { jwk: e2e.issuer.publicJwk() }, { x5u: 'http://127.0.0.1:1/cert' }]) {
      await expectInvalid(await e2e.issuer.mint({ sub: 'alice', aud: e2e.gateway.audience }, { header }), /error_description/)
    }
  })

  it('unknown kid', async () => {
    await expectInvalid(await e2e.issuer.mint({ sub: 'alice', aud: e2e.gateway.audience }, { kid: 'no-such-key' }), /error_description/)
  })

  it('oversized and malformed tokens', async () => {
    await expectInvalid(await e2e.token('alice', ['dba'], { padding: 'x'.repeat(9000) }), /error_description/)
    await expectInvalid('not.a.jwt', /error_description/)
  })

  it('serves RFC 9728 metadata on both well-known paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const response = await fetch(`${e2e.gateway.origin}${path}`)
      assert.equal(response.status, 200)
      const metadata = (await response.json()) as Record<string, unknown>
      assert.equal(metadata.resource, e2e.gateway.resource)
      assert.deepEqual(metadata.authorization_servers, [e2e.issuer.issuer])
      assert.deepEqual(metadata.bearer_methods_supported, ['header'])
    }
  })

  it('records auth failures in the audit trail without the token, one per client per 10 s with a count', async () => {
    e2e.clock.advance(10_000)
    const token = await e2e.token('alice', ['dba'], { iss: 'https://evil.example' })
    await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${token}` })
    const { readFile } = await import('node:fs/promises')
    const audit = await readFile(e2e.auditPath, 'utf8')
    assert.match(audit, /"type":"auth.failure"/)
    const failures = audit.trim().split('\n').filter((line) => line.includes('"type":"auth.failure"'))
    assert.match(failures.at(-1) ?? '', /"reason":"wrong_issuer"[^\n]*"suppressedSinceLastRecord":\d+/)
    assert.ok(failures.length < 5, 'the earlier refusals in this suite were aggregated, not written one by one')
    assert.ok(!audit.includes(token), 'expected: !audit.includes(token)')
  })
})

interface RawAnswer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
}

/** A POST whose header lines are sent exactly as listed, repeats included (fetch would merge them); node adds no Host to a list. */
function postLines(url: string, lines: readonly (readonly [string, string])[], body: string): Promise<RawAnswer> {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: 'POST', headers: [['Host', target.host], ...lines].flat() }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('a bearer token sent more than once, or in more than one place, is 400 invalid_request (RFC 6750 §3.1)', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  const JSON_LINES = [['Content-Type', 'application/json'], ['Accept', 'application/json, text/event-stream']] as const
  const initialize = JSON.stringify(INITIALIZE)

  interface Case {
    readonly name: string
    readonly conflict: string
    /** Query string (with `?`), header lines and body, given the caller's valid token and another subject's. */
    readonly build: (alice: string, mallory: string) => { query?: string; lines: (readonly [string, string])[]; body?: string }
  }

  // Before the fix each of these was decided by the first token alone (200 or 401).
  const CASES: readonly Case[] = [
    { name: 'two Authorization lines, two valid tokens of different subjects', conflict: 'repeated_header', build: (a, m) => ({ lines: [['Authorization', `Bearer ${a}`], ['Authorization', `Bearer ${m}`], ...JSON_LINES] }) },
    { name: 'the same token twice', conflict: 'repeated_header', build: (a) => ({ lines: [['Authorization', `Bearer ${a}`], ['Authorization', `Bearer ${a}`], ...JSON_LINES] }) },
    { name: 'a refused token first, a valid one second', conflict: 'repeated_header', build: (a) => ({ lines: [['Authorization', 'Bearer not.a.jwt'], ['authorization', `Bearer ${a}`], ...JSON_LINES] }) },
    { name: 'a Bearer line and a Basic line', conflict: 'repeated_header', build: (a) => ({ lines: [['AUTHORIZATION', `Bearer ${a}`], ['Authorization', 'Basic YWxpY2U6cHc='], ...JSON_LINES] }) },
    { name: 'an empty second Authorization line', conflict: 'repeated_header', build: (a) => ({ lines: [['Authorization', `Bearer ${a}`], ['Authorization', ''], ...JSON_LINES] }) },
    { name: 'two credentials merged into one line', conflict: 'several_credentials', build: (a, m) => ({ lines: [['Authorization', `Bearer ${a}, Bearer ${m}`], ...JSON_LINES] }) },
    { name: 'a Basic credential merged after the bearer token', conflict: 'several_credentials', build: (a) => ({ lines: [['Authorization', `bearer ${a},Basic YWxpY2U6cHc=`], ...JSON_LINES] }) },
    { name: 'header and access_token query parameter', conflict: 'header_and_query', build: (a, m) => ({ query: `?access_token=${m}`, lines: [['Authorization', `Bearer ${a}`], ...JSON_LINES] }) },
    { name: 'header and a percent-encoded access_token parameter name', conflict: 'header_and_query', build: (a, m) => ({ query: `?%61ccess_token=${m}`, lines: [['Authorization', `Bearer ${a}`], ...JSON_LINES] }) },
    { name: 'header and an empty access_token among other parameters', conflict: 'header_and_query', build: (a) => ({ query: '?x=1&access_token=', lines: [['Authorization', `Bearer ${a}`], ...JSON_LINES] }) },
    { name: 'header and a form-encoded body with access_token', conflict: 'header_and_form_body', build: (a, m) => ({ lines: [['Authorization', `Bearer ${a}`], ['Content-Type', 'application/x-www-form-urlencoded'], ['Accept', 'application/json, text/event-stream']], body: `access_token=${m}` }) },
    { name: 'header and a form-encoded body with a charset', conflict: 'header_and_form_body', build: (a, m) => ({ lines: [['Authorization', `Bearer ${a}`], ['Content-Type', 'Application/X-WWW-Form-Urlencoded; charset=utf-8']], body: `x=1&access_token=${m}` }) },
  ]

  async function lastAuthFailure(): Promise<Record<string, unknown> | undefined> {
    const records = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    return records.filter((r) => r.type === 'auth.failure').at(-1)
  }

  for (const c of CASES) {
    it(`${c.name}: 400, invalid_request challenge, no session, audited`, async () => {
      // A fresh sampling window per case, so each refusal is its own audit record.
      e2e.clock.advance(10_001)
      const alice = await e2e.token('alice', ['dba'])
      const mallory = await e2e.token('mallory', ['dba'])
      const built = c.build(alice, mallory)
      const response = await postLines(`${e2e.gateway.resource}${built.query ?? ''}`, built.lines, built.body ?? initialize)
      assert.equal(response.status, 400, response.text)
      const challenge = String(response.headers['www-authenticate'])
      assert.match(challenge, /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp", error="invalid_request", error_description="[^"]+"$/)
      assert.deepEqual(JSON.parse(response.text), { error: 'invalid_request', error_description: 'Send exactly one bearer token, in one Authorization header' })
      assert.equal(response.headers['mcp-session-id'], undefined)
      for (const token of [alice, mallory]) assert.ok(!response.text.includes(token) && !challenge.includes(token), 'no token is echoed')
      const record = await lastAuthFailure()
      assert.equal(record?.reason, 'multiple_tokens')
      assert.equal(record?.code, 'AUTH_INVALID')
      assert.deepEqual(record?.detail, { conflict: c.conflict })
      assert.ok(!JSON.stringify(record).includes(alice), 'the audit record holds no token')
    })
  }

  it('still serves one token in one header, whatever else the query holds; a query-only token is no token (401)', async () => {
    const alice = await e2e.token('alice', ['dba'])
    const single = await postLines(e2e.gateway.resource, [['Authorization', `Bearer ${alice}`], ...JSON_LINES], initialize)
    assert.equal(single.status, 200, single.text)
    const otherQuery = await postLines(`${e2e.gateway.resource}?note=access_token`, [['Authorization', `Bearer ${alice}`], ...JSON_LINES], initialize)
    assert.equal(otherQuery.status, 200, otherQuery.text)
    const queryOnly = await postLines(`${e2e.gateway.resource}?access_token=${alice}`, [...JSON_LINES], initialize)
    assert.equal(queryOnly.status, 401)
    assert.doesNotMatch(String(queryOnly.headers['www-authenticate']), /error=/)
  })

  it('refuses the v1 SDK client (2025 lane) that also puts its token in the URL: no session opens', async () => {
    e2e.clock.advance(10_001)
    const alice = await e2e.token('alice', ['dba'])
    const sessions = await e2e.gateway.gateway.sessions.count()
    const client = new Client({ name: 'two-places', version: '1.0.0' })
    const transport = new StreamableHTTPClientTransport(new URL(`${e2e.gateway.resource}?access_token=${alice}`), { requestInit: { headers: { Authorization: `Bearer ${alice}` } } })
    await assert.rejects(client.connect(transport), (error: unknown) => {
      assert.match(String(error), /400|invalid_request/)
      return true
    })
    await client.close()
    assert.equal(await e2e.gateway.gateway.sessions.count(), sessions)
    const record = await lastAuthFailure()
    assert.equal(record?.reason, 'multiple_tokens')
    assert.equal((record?.detail as { conflict?: string } | undefined)?.conflict, 'header_and_query')
  })

  it('refuses the v2 SDK client pinned to 2026-07-28 that also puts its token in the URL', async () => {
    e2e.clock.advance(10_001)
    const alice = await e2e.token('alice', ['dba'])
    const client = new ModernClient({ name: 'two-places-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
    // Its first request (server/discover) is refused, so it never reaches the 2026-07-28 revision.
    await assert.rejects(client.connect(new ModernTransport(new URL(`${e2e.gateway.resource}?access_token=${alice}`), { requestInit: { headers: { Authorization: `Bearer ${alice}` } } })))
    await client.close()
    const record = await lastAuthFailure()
    assert.equal(record?.reason, 'multiple_tokens')
    assert.equal((record?.detail as { conflict?: string } | undefined)?.conflict, 'header_and_query')
  })
})

describe('gateway refuses tokens outside its token profile with the right RFC 6750 error', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E({ config: { allowedClients: ['agent-app'], requiredClaims: { tid: 'tenant-1' }, requiredScopes: ['mcp'] } })
  })
  after(() => e2e.close())

  const conforming = { client_id: 'agent-app', tid: 'tenant-1', scope: 'mcp' }
  const nowSeconds = (): number => Math.floor(e2e.clock.now() / 1000)
  // Each refusal in its own audit window, so each leaves its own record.
  const refuse = async (token: string) => {
    e2e.clock.advance(10_001)
    return postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${token}` })
  }

  const INVALID: ReadonlyArray<[label: string, reason: string, description: string, token: () => Promise<string>]> = [
    ['a security event token (typ secevent+jwt)', 'wrong_token_type', 'The token type is not accepted', () => e2e.issuer.mint({ sub: 'alice', aud: e2e.gateway.audience, ...conforming }, { header: { typ: 'secevent+jwt' } })],
    ['a token valid for ten years', 'lifetime_too_long', 'The token lifetime is longer than this resource accepts', () => e2e.token('alice', ['dba'], { ...conforming, exp: nowSeconds() + 10 * 365 * 86_400 })],
    ['the IdP key under PS256', 'alg_not_declared', 'The token signing algorithm is not the one its issuer declares for the key', () => e2e.issuer.mint({ sub: 'alice', aud: e2e.gateway.audience, ...conforming }, { alg: 'PS256' })],
    ['the IdP key under RS512', 'alg_not_declared', 'The token signing algorithm is not the one its issuer declares for the key', () => e2e.issuer.mint({ sub: 'alice', aud: e2e.gateway.audience, ...conforming }, { alg: 'RS512' })],
    ['another client', 'client_not_allowed', 'The token was issued to a client this resource does not accept', () => e2e.token('alice', ['dba'], { ...conforming, client_id: 'other-app' })],
    ['another tenant', 'claim_mismatch', 'The token claims do not match what this resource requires', () => e2e.token('alice', ['dba'], { ...conforming, tid: 'tenant-2' })],
  ]
  for (const [label, reason, description, token] of INVALID) {
    it(`${label}: 401 invalid_token, audited as ${reason}`, async () => {
      const response = await refuse(await token())
      assert.equal(response.status, 401)
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata="[^"]+", error="invalid_token", error_description="([^"]+)"$/)
      assert.ok(response.headers.get('www-authenticate')?.endsWith(`error_description="${description}"`), response.headers.get('www-authenticate') ?? '')
      assert.deepEqual(JSON.parse(response.text), { error: 'invalid_token', error_description: description })
      const { readFile } = await import('node:fs/promises')
      const last = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').filter((line) => line.includes('"type":"auth.failure"')).at(-1) ?? ''
      assert.match(last, new RegExp(`"code":"AUTH_INVALID"[^\\n]*"reason":"${reason}"`))
    })
  }

  it('a token without a required scope: 403 insufficient_scope naming it, audited', async () => {
    const response = await refuse(await e2e.token('alice', ['dba'], { ...conforming, scope: 'openid' }))
    assert.equal(response.status, 403)
    assert.equal(
      response.headers.get('www-authenticate'),
      `Bearer resource_metadata="${e2e.gateway.origin}/.well-known/oauth-protected-resource/mcp", scope="mcp", error="insufficient_scope", error_description="The token lacks a scope this request needs"`,
    )
    assert.equal(JSON.parse(response.text).error, 'insufficient_scope')
    const { readFile } = await import('node:fs/promises')
    const last = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').filter((line) => line.includes('"type":"auth.failure"')).at(-1) ?? ''
    assert.match(last, /"code":"AUTH_FORBIDDEN"[^\n]*"reason":"insufficient_scope"/)
  })

  it('a conforming token (typ JWT, five minutes, the right client, tenant and scope) is served, and required scopes are advertised', async () => {
    const response = await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${await e2e.token('alice', ['dba'], conforming)}` })
    assert.equal(response.status, 200, response.text)
    const atJwt = await e2e.issuer.mint({ sub: 'alice', aud: e2e.gateway.audience, ...conforming }, { header: { typ: 'application/at+jwt' } })
    assert.equal((await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${atJwt}` })).status, 200)
    const metadata = (await (await fetch(`${e2e.gateway.origin}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>
    assert.ok(Array.isArray(metadata.scopes_supported) && metadata.scopes_supported.includes('mcp'), JSON.stringify(metadata))
  })
})
