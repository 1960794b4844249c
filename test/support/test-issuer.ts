/**
 * A real local OIDC issuer for tests: discovery + JWKS over HTTP on 127.0.0.1 (port 0), real key
 * pairs, really signed tokens.
 *
 *   const idp = await startTestIssuer({ audience: 'https://airlock.test/mcp' })
 *   const token = await idp.mint({ groups: ['dba'] })          // RS256, 5 min, sub 'agent-1'
 *   const expired = await idp.mint({ exp: 1 })                  // override any claim
 *   const noSub = await idp.mint({ sub: undefined })             // undefined removes a claim
 *   await idp.stop()
 *
 * The verifier must be built with `allowInsecureLoopback: true` (the issuer is http).
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose'
import { systemClock, type Clock } from '../../src/clock.js'

export type TestKeyAlg = 'RS256' | 'ES256' | 'EdDSA'

export interface TestIssuerOptions {
  /** Default `aud` of minted tokens. Default `https://airlock.test/mcp`. */
  readonly audience?: string
  /** One key per algorithm; the first is the current signing key. Default `['RS256']`. */
  readonly algs?: readonly TestKeyAlg[]
  /** Source of `iat`/`exp` for minted tokens. Default the system clock. */
  readonly clock?: Clock
  /** Issuer path, e.g. `/realms/test` or `/` (issuer then ends with a slash). Default none. */
  readonly path?: string
  /** Fields merged over the served discovery document (e.g. a wrong `issuer`, an http `jwks_uri`). */
  readonly discoveryOverrides?: Readonly<Record<string, unknown>>
  /** Port on 127.0.0.1 (e.g. one a gateway was configured with while nothing listened there). Default 0. */
  readonly port?: number
  /** `false`: the published JWKs carry no `alg` (as Entra ID's do). Default true. */
  readonly publishAlg?: boolean
}

export interface MintOptions {
  /** Sign with the issuer key of this kid, or put this (unknown) kid on a current-key signature. */
  readonly kid?: string
  /**
   * Algorithm; picks the issuer's key of that algorithm unless `key` is given. Without a key of
   * that algorithm, the current key signs under it (the IdP's own RSA key under PS256 or RS512).
   */
  readonly alg?: string
  /** Extra protected header members; an `undefined` value removes a member (e.g. `kid`). */
  readonly header?: Readonly<Record<string, unknown>>
  /** Sign with this key instead of an issuer key (wrong-key and HS256 attacks). */
  readonly key?: CryptoKey | Uint8Array
}

export interface TestIssuer {
  /** The issuer identifier, e.g. `http://127.0.0.1:43121`. */
  readonly issuer: string
  readonly audience: string
  readonly jwksUri: string
  /** The kid that `mint()` signs with by default. */
  readonly currentKid: string
  /** Requests received (including refused ones while down). */
  readonly discoveryRequests: number
  readonly jwksRequests: number
  /** A really signed JWT: defaults iss, aud, sub `agent-1`, groups `['engineers']`, iat now, exp +5 min, jti. */
  mint(claims?: Readonly<Record<string, unknown>>, options?: MintOptions): Promise<string>
  /** An unsecured (`alg: none`) JWT with the same defaults, built by hand. */
  mintUnsecured(claims?: Readonly<Record<string, unknown>>): string
  /** Adds a new current key (published in the JWKS); returns its kid. */
  rotate(options?: { readonly alg?: TestKeyAlg; readonly dropOld?: boolean }): Promise<string>
  /** `true`: answer every request with 503 (`'unavailable'`) or reset the connection (`'reset'`). */
  setDown(down: boolean, mode?: 'unavailable' | 'reset'): void
  /** The public JWK of `kid` (default the current key), e.g. for the HS256-with-public-key attack. */
  publicJwk(kid?: string): JWK
  /** The private JWK of `kid` (default the current key), with its kid and alg: a key the issuer publishes. */
  privateJwk(kid?: string): JWK
  stop(): Promise<void>
}

interface IssuerKey {
  readonly kid: string
  readonly alg: TestKeyAlg
  readonly privateKey: CryptoKey
  readonly privateJwk: JWK
  readonly publicJwk: JWK
}

async function createKey(alg: TestKeyAlg): Promise<IssuerKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`
  return {
    kid,
    alg,
    privateKey,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
  }
}

function withoutUndefined(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined))
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** Starts the issuer; call `stop()` when done. */
export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const audience = options.audience ?? 'https://airlock.test/mcp'
  const clock = options.clock ?? systemClock
  const path = options.path ?? ''
  let keys: IssuerKey[] = []
  for (const alg of options.algs ?? ['RS256']) keys.push(await createKey(alg))
  let down: false | 'unavailable' | 'reset' = false
  let discoveryRequests = 0
  let jwksRequests = 0
  let issuer = ''
  let jwksUri = ''
  const basePath = path.endsWith('/') ? path.slice(0, -1) : path

  function send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(JSON.stringify(body))
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const isDiscovery = url.pathname === `${basePath}/.well-known/openid-configuration`
    const isJwks = url.pathname === `${basePath}/jwks`
    if (isDiscovery) discoveryRequests += 1
    if (isJwks) jwksRequests += 1
    if (down === 'reset') {
      req.socket.destroy()
      return
    }
    if (down === 'unavailable') return send(res, 503, { error: 'temporarily_unavailable' })
    if (isDiscovery) {
      return send(res, 200, {
        issuer,
        jwks_uri: jwksUri,
        authorization_endpoint: `${issuer.replace(/\/$/, '')}/authorize`,
        token_endpoint: `${issuer.replace(/\/$/, '')}/token`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [...new Set(keys.map((key) => key.alg))],
        ...options.discoveryOverrides,
      })
    }
    if (isJwks) {
      const published = keys.map((key) => (options.publishAlg === false ? withoutUndefined({ ...key.publicJwk, alg: undefined }) : key.publicJwk))
      return send(res, 200, { keys: published })
    }
    return send(res, 404, { error: 'not_found' })
  }

  const server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('test issuer did not bind a TCP port')
  const { port } = address
  issuer = `http://127.0.0.1:${port}${path}`
  jwksUri = `http://127.0.0.1:${port}${basePath}/jwks`

  const current = (): IssuerKey => {
    const key = keys[0] // rotate() puts the new key first
    if (key === undefined) throw new TypeError('the test issuer holds no keys')
    return key
  }

  function defaults(): Record<string, unknown> {
    const iat = Math.floor(clock.now() / 1000)
    return { iss: issuer, aud: audience, sub: 'agent-1', groups: ['engineers'], iat, exp: iat + 300, jti: randomUUID() }
  }

  return {
    issuer,
    audience,
    jwksUri,
    get currentKid() {
      return current().kid
    },
    get discoveryRequests() {
      return discoveryRequests
    },
    get jwksRequests() {
      return jwksRequests
    },
    async mint(claims = {}, mintOptions = {}) {
      const byKid = mintOptions.kid === undefined ? undefined : keys.find((key) => key.kid === mintOptions.kid)
      const byAlg = mintOptions.alg === undefined ? undefined : keys.find((key) => key.alg === mintOptions.alg)
      const issuerKey = byKid ?? byAlg ?? current()
      const alg = mintOptions.alg ?? issuerKey.alg
      const header = withoutUndefined({ alg, kid: mintOptions.kid ?? issuerKey.kid, typ: 'JWT', ...mintOptions.header })
      // A CryptoKey is bound to one algorithm: the same key material signs under another one re-imported.
      const key = mintOptions.key ?? (alg === issuerKey.alg ? issuerKey.privateKey : await importJWK({ ...issuerKey.privateJwk, alg }, alg))
      return new SignJWT(withoutUndefined({ ...defaults(), ...claims }))
        .setProtectedHeader({ ...header, alg })
        .sign(key)
    },
    mintUnsecured(claims = {}) {
      return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(withoutUndefined({ ...defaults(), ...claims }))}.`
    },
    async rotate(rotateOptions = {}) {
      const key = await createKey(rotateOptions.alg ?? current().alg)
      keys = rotateOptions.dropOld === true ? [key] : [key, ...keys]
      return key.kid
    },
    setDown(isDown, mode = 'unavailable') {
      down = isDown ? mode : false
    },
    publicJwk(kid) {
      const key = kid === undefined ? current() : keys.find((candidate) => candidate.kid === kid)
      if (key === undefined) throw new TypeError(`no key with kid ${kid}`)
      return { ...key.publicJwk }
    },
    privateJwk(kid) {
      const key = kid === undefined ? current() : keys.find((candidate) => candidate.kid === kid)
      if (key === undefined) throw new TypeError(`no key with kid ${kid}`)
      return { ...key.privateJwk }
    },
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
