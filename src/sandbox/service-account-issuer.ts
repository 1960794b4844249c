import { randomUUID } from 'node:crypto'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import type { Clock } from '../clock.js'
import { sendJson, startHttpServer } from './emulator-http.js'

export interface ServiceAccountIssuerOptions {
  readonly clock: Clock
  /** Where the projected token is written, as kubelet does for IRSA. */
  readonly tokenFile: string
  readonly namespace?: string
  readonly serviceAccount?: string
  readonly audience?: string
  readonly ttlSeconds?: number
}

export interface TokenOverrides {
  readonly sub?: string
  readonly aud?: string
  readonly iss?: string
  /** Seconds from now; negative for an already-expired token. */
  readonly expiresInSeconds?: number
}

export interface ServiceAccountIssuer {
  /** The issuer URL (`iss`), also the base of the discovery document. */
  readonly issuer: string
  readonly jwksUri: string
  readonly tokenFile: string
  /** `system:serviceaccount:<ns>:<sa>` */
  readonly subject: string
  /** Signs a token with the issuer's key (overrides for negative tests) without writing it. */
  mint(overrides?: TokenOverrides): Promise<string>
  /** Writes a fresh projected token to `tokenFile` (atomically) and returns it. */
  rotate(overrides?: TokenOverrides): Promise<string>
  close(): Promise<void>
}

/**
 * A Kubernetes-like service-account token issuer: serves OIDC discovery and JWKS on 127.0.0.1
 * and keeps a projected token file current, so the gateway runs exactly as with IRSA on EKS.
 * https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
 */
export async function startServiceAccountIssuer(options: ServiceAccountIssuerOptions): Promise<ServiceAccountIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const kid = randomUUID()
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }
  let issuer = ''
  const server = await startHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://issuer.local').pathname
    if (path === '/.well-known/openid-configuration') {
      sendJson(res, 200, {
        issuer,
        jwks_uri: `${issuer}/openid/v1/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      })
    } else if (path === '/openid/v1/jwks') {
      sendJson(res, 200, { keys: [publicJwk] })
    } else {
      sendJson(res, 404, { message: 'not found' })
    }
  })
  issuer = server.url
  const subject = `system:serviceaccount:${options.namespace ?? 'airlock'}:${options.serviceAccount ?? 'airlock-gateway'}`
  const ttl = options.ttlSeconds ?? 3600

  async function mint(overrides: TokenOverrides = {}): Promise<string> {
    const now = Math.floor(options.clock.now() / 1000)
    return new SignJWT({ 'kubernetes.io': { namespace: options.namespace ?? 'airlock', serviceaccount: { name: options.serviceAccount ?? 'airlock-gateway' } } })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(overrides.iss ?? issuer)
      .setSubject(overrides.sub ?? subject)
      .setAudience(overrides.aud ?? options.audience ?? 'sts.amazonaws.com')
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + (overrides.expiresInSeconds ?? ttl))
      .sign(privateKey)
  }

  async function rotate(overrides: TokenOverrides = {}): Promise<string> {
    const token = await mint(overrides)
    await mkdir(dirname(options.tokenFile), { recursive: true })
    const temp = `${options.tokenFile}.${randomUUID()}.tmp`
    await writeFile(temp, token, { mode: 0o600 })
    await rename(temp, options.tokenFile)
    return token
  }

  await rotate()
  return { issuer, jwksUri: `${issuer}/openid/v1/jwks`, tokenFile: options.tokenFile, subject, mint, rotate, close: () => server.close() }
}
