import assert from 'node:assert/strict'
import { createServer, type RequestListener, type Server } from 'node:http'
import { after, afterEach, before, describe, it } from 'node:test'
import { UpstreamError, type UpstreamErrorCode } from '../../src/errors.js'
import { discoverIssuer, discoveryUrl } from '../../src/auth/oidc-discovery.js'
import { startTestIssuer, type TestIssuer, type TestIssuerOptions } from '../support/test-issuer.js'

async function assertUpstream(promise: Promise<unknown>, code: UpstreamErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UpstreamError, 'expected: error instanceof UpstreamError')
    assert.equal(error.code, code)
    if (message !== undefined) assert.match(error.message, message)
    return true
  })
}

describe('discoveryUrl (OIDC Discovery §4)', () => {
  it('appends the well-known path to the issuer path, removing one terminating slash', () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['https://idp.example', 'https://idp.example/.well-known/openid-configuration'],
      ['https://idp.example/', 'https://idp.example/.well-known/openid-configuration'],
      ['https://idp.example/realms/a', 'https://idp.example/realms/a/.well-known/openid-configuration'],
      ['https://idp.example/realms/a/', 'https://idp.example/realms/a/.well-known/openid-configuration'],
    ]
    for (const [issuer, url] of cases) assert.equal(discoveryUrl(issuer), url)
    assert.equal(discoveryUrl('http://[::1]:8080', true), 'http://[::1]:8080/.well-known/openid-configuration')
  })

  it('throws TypeError for an issuer that is not https, has a query or fragment, or is not a URL', () => {
    for (const issuer of ['http://idp.example', 'https://idp.example?a=1', 'https://idp.example#x', 'idp.example', 'https://u:p@idp.example']) {
      assert.throws(() => discoveryUrl(issuer), TypeError, issuer)
    }
    assert.throws(() => discoveryUrl('http://127.0.0.1:1'), TypeError)
    assert.throws(() => discoveryUrl('http://10.0.0.1', true), TypeError)
  })
})

describe('discoverIssuer against a real issuer', () => {
  const started: TestIssuer[] = []
  const start = async (options: TestIssuerOptions = {}): Promise<TestIssuer> => {
    const idp = await startTestIssuer(options)
    started.push(idp)
    return idp
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map((idp) => idp.stop()))
  })

  it('returns the issuer and jwks_uri, for issuers with and without a path or trailing slash', async () => {
    for (const path of ['', '/', '/realms/test', '/realms/test/']) {
      const idp = await start({ path })
      const metadata = await discoverIssuer({ issuer: idp.issuer, allowInsecureLoopback: true })
      assert.deepEqual(metadata, { issuer: idp.issuer, jwksUri: idp.jwksUri, signingAlgorithms: ['RS256'] })
      assert.equal(idp.discoveryRequests, 1)
    }
  })

  it('reads the signing algorithms the issuer declares, preferring an access-token list', async () => {
    const CASES: Array<[overrides: Record<string, unknown>, expected: readonly string[] | undefined]> = [
      [{}, ['RS256']],
      [{ id_token_signing_alg_values_supported: ['PS256', 'RS256'] }, ['PS256', 'RS256']],
      [{ access_token_signing_alg_values_supported: ['ES256'] }, ['ES256']],
      [{ id_token_signing_alg_values_supported: undefined }, undefined],
      [{ id_token_signing_alg_values_supported: [] }, undefined],
      [{ id_token_signing_alg_values_supported: 'RS256' }, undefined],
      [{ id_token_signing_alg_values_supported: [1, 'RS256'] }, undefined],
      [{ access_token_signing_alg_values_supported: 'ES256' }, ['RS256']],
    ]
    for (const [discoveryOverrides, expected] of CASES) {
      const idp = await start({ discoveryOverrides })
      const metadata = await discoverIssuer({ issuer: idp.issuer, allowInsecureLoopback: true })
      assert.deepEqual(metadata.signingAlgorithms, expected, JSON.stringify(discoveryOverrides))
      assert.equal(Object.hasOwn(metadata, 'signingAlgorithms'), expected !== undefined, JSON.stringify(discoveryOverrides))
    }
  })

  it('refuses a document whose issuer differs from the configured one, even by a slash', async () => {
    const idp = await start()
    await assertUpstream(discoverIssuer({ issuer: `${idp.issuer}/`, allowInsecureLoopback: true }), 'OIDC_INVALID', /names issuer/)
    const liar = await start({ discoveryOverrides: { issuer: 'https://idp.example' } })
    await assertUpstream(discoverIssuer({ issuer: liar.issuer, allowInsecureLoopback: true }), 'OIDC_INVALID', /names issuer/)
  })

  it('refuses an http jwks_uri that is not loopback, and accepts an https one', async () => {
    const insecure = await start({ discoveryOverrides: { jwks_uri: 'http://keys.example/jwks' } })
    await assertUpstream(discoverIssuer({ issuer: insecure.issuer, allowInsecureLoopback: true }), 'OIDC_INVALID', /not https/)
    const secure = await start({ discoveryOverrides: { jwks_uri: 'https://keys.example/jwks' } })
    const metadata = await discoverIssuer({ issuer: secure.issuer, allowInsecureLoopback: true })
    assert.equal(metadata.jwksUri, 'https://keys.example/jwks')
  })

  it('refuses a loopback http issuer unless allowInsecureLoopback is set', async () => {
    const idp = await start()
    await assert.rejects(discoverIssuer({ issuer: idp.issuer }), TypeError)
    assert.equal(idp.discoveryRequests, 0)
  })

  it('refuses a document without jwks_uri or with an invalid one', async () => {
    const missing = await start({ discoveryOverrides: { jwks_uri: undefined } })
    await assertUpstream(discoverIssuer({ issuer: missing.issuer, allowInsecureLoopback: true }), 'OIDC_INVALID')
    const invalid = await start({ discoveryOverrides: { jwks_uri: 'not a url' } })
    await assertUpstream(discoverIssuer({ issuer: invalid.issuer, allowInsecureLoopback: true }), 'OIDC_INVALID')
  })

  it('reports an issuer that is down as OIDC_UNAVAILABLE', async () => {
    const idp = await start()
    idp.setDown(true)
    await assertUpstream(discoverIssuer({ issuer: idp.issuer, allowInsecureLoopback: true }), 'OIDC_UNAVAILABLE', /HTTP 503/)
    idp.setDown(true, 'reset')
    await assertUpstream(discoverIssuer({ issuer: idp.issuer, allowInsecureLoopback: true }), 'OIDC_UNAVAILABLE')
  })
})

describe('discoverIssuer against misbehaving servers', () => {
  let server: Server
  let base = ''
  let handler: RequestListener = (_req, res) => res.end()
  before(async () => {
    server = createServer((req, res) => handler(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    const address = server.address()
    if (address === null || typeof address === 'string') throw new TypeError('no port')
    base = `http://127.0.0.1:${address.port}`
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('refuses a body that is not JSON', async () => {
    handler = (_req, res) => res.end('<html>hello</html>')
    await assertUpstream(discoverIssuer({ issuer: base, allowInsecureLoopback: true }), 'OIDC_INVALID', /not return JSON/)
  })

  it('refuses an oversized document', async () => {
    handler = (_req, res) => res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks`, pad: 'x'.repeat(600 * 1024) }))
    await assertUpstream(discoverIssuer({ issuer: base, allowInsecureLoopback: true }), 'OIDC_INVALID', /oversized/)
  })

  it('does not follow redirects', async () => {
    let redirected = 0
    handler = (req, res) => {
      if (req.url === '/elsewhere') {
        redirected += 1
        res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks` }))
        return
      }
      res.writeHead(302, { location: '/elsewhere' }).end()
    }
    await assertUpstream(discoverIssuer({ issuer: base, allowInsecureLoopback: true }), 'OIDC_UNAVAILABLE', /HTTP 302/)
    assert.equal(redirected, 0)
  })

  it('gives up after the timeout', async () => {
    handler = () => undefined // never answers
    await assertUpstream(discoverIssuer({ issuer: base, allowInsecureLoopback: true, timeoutMs: 50 }), 'OIDC_UNAVAILABLE')
  })

  it('accepts a well-formed document from the same server', async () => {
    handler = (_req, res) => res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks`, extra: { anything: 1 } }))
    assert.deepEqual(await discoverIssuer({ issuer: base, allowInsecureLoopback: true }), { issuer: base, jwksUri: `${base}/jwks` })
  })
})
