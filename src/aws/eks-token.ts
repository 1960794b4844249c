import { HttpRequest } from '@smithy/protocol-http'
import { SignatureV4 } from '@smithy/signature-v4'
import type { AwsCredentialIdentityProvider, HttpRequest as SignedRequest } from '@smithy/types'
import type { Clock } from '../clock.js'
import { UpstreamError } from '../errors.js'
import { NodeSha256 } from './node-sha256.js'

/** A bearer token for an EKS cluster's API server, in the aws-iam-authenticator format. */
export interface EksToken {
  readonly token: string
  /** Epoch ms after which the token must not be presented. */
  readonly expiresAt: number
}

export interface EksTokenSource {
  token(cluster: string): Promise<EksToken>
}

export interface EksTokenSourceOptions {
  /** The gateway's own credentials; the cluster maps their principal to a Kubernetes identity. */
  readonly credentials: AwsCredentialIdentityProvider
  readonly region: string
  readonly clock: Clock
  /** Defaults to the regional endpoint `https://sts.<region>.amazonaws.com/`. */
  readonly stsEndpoint?: URL
}

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.'
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id'
/** STS accepts a presigned GetCallerIdentity URL for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says. */
const PRESIGNED_URL_LIFETIME_MS = 15 * 60_000
/** Like the authenticator, hand the token out for one minute less than STS would accept it. */
const TOKEN_LIFETIME_MS = PRESIGNED_URL_LIFETIME_MS - 60_000
/** Regenerate this long before a cached token expires so a request in flight never carries a stale one. */
const REFRESH_MARGIN_MS = 60_000
/** Ignored by STS; the authenticator sends 60 for compatibility with old servers that check it. */
const PRESIGN_EXPIRES_SECONDS = 60

/**
 * Builds EKS tokens (`k8s-aws-v1.` + unpadded base64url of a presigned STS GetCallerIdentity URL
 * whose signed headers include `x-k8s-aws-id: <cluster>`), cached per cluster for at most 14 minutes.
 * Throws UpstreamError AWS_CREDENTIALS when the credentials cannot be resolved.
 */
export function createEksTokenSource(options: EksTokenSourceOptions): EksTokenSource {
  const endpoint = options.stsEndpoint ?? new URL(`https://sts.${options.region}.amazonaws.com/`)
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: NodeSha256,
    uriEscapePath: true,
  })
  const cache = new Map<string, Promise<EksToken>>()

  async function generate(cluster: string): Promise<EksToken> {
    const now = options.clock.now()
    let credentialExpiry = Number.POSITIVE_INFINITY
    try {
      const identity = await options.credentials()
      if (identity.expiration !== undefined) credentialExpiry = identity.expiration.getTime()
    } catch (cause) {
      throw new UpstreamError('AWS_CREDENTIALS', 'could not resolve the gateway credentials for an EKS token', { cause })
    }
    const request = new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: endpoint.hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: endpoint.host, [CLUSTER_ID_HEADER]: cluster },
    })
    let presigned: SignedRequest
    try {
      presigned = await signer.presign(request, { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: new Date(now) })
    } catch (cause) {
      throw new UpstreamError('AWS_CREDENTIALS', 'could not presign the EKS token request', { cause })
    }
    const url = `https://${endpoint.host}/?${formatQuery(presigned.query)}`
    const token = EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url')
    return { token, expiresAt: Math.min(now + TOKEN_LIFETIME_MS, credentialExpiry) }
  }

  return {
    async token(cluster) {
      if (cluster.length === 0) throw new TypeError('cluster name is required')
      const hit = cache.get(cluster)
      if (hit !== undefined) {
        const cached = await hit.catch(() => undefined)
        if (cached !== undefined && options.clock.now() < cached.expiresAt - REFRESH_MARGIN_MS) return cached
        if (cache.get(cluster) !== hit) return this.token(cluster)
      }
      const pending = generate(cluster)
      cache.set(cluster, pending)
      pending.catch(() => {
        if (cache.get(cluster) === pending) cache.delete(cluster)
      })
      return pending
    },
  }
}

/** RFC 3986 query string, as the AWS SDKs format presigned URLs. */
function formatQuery(query: SignedRequest['query']): string {
  const parts: string[] = []
  const all = query ?? {}
  // Sorted, with the signature last, as botocore and aws-sdk-go lay out presigned URLs.
  const keys = Object.keys(all).sort((a, b) => Number(a === 'X-Amz-Signature') - Number(b === 'X-Amz-Signature') || (a < b ? -1 : a > b ? 1 : 0))
  for (const key of keys) {
    const value = all[key]
    const values = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value]
    for (const v of values) parts.push(`${escape(key)}=${escape(v)}`)
  }
  return parts.join('&')
}

function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}
