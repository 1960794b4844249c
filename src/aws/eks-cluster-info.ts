import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks'
import { z } from 'zod'
import type { Clock } from '../clock.js'
import { UpstreamError, type UpstreamErrorCode } from '../errors.js'

/** What the gateway needs to reach a cluster's API server. */
export interface EksClusterInfo {
  readonly name: string
  readonly arn: string
  /** https URL of the API server. */
  readonly endpoint: string
  /** Base64 of the cluster CA bundle (PEM), as DescribeCluster returns it. */
  readonly caData: string
  readonly version: string | undefined
}

export interface EksClusterInfoCache {
  describe(client: EKSClient, cluster: string, signal?: AbortSignal): Promise<EksClusterInfo>
}

const DEFAULT_TTL_MS = 5 * 60_000

const describedCluster = z.object({
  name: z.string().min(1),
  arn: z.string().min(1),
  endpoint: z.url({ protocol: /^https$/ }),
  certificateAuthority: z.object({ data: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64').min(16) }),
  status: z.string(),
  version: z.string().optional(),
})

const ERROR_CODES: Readonly<Record<string, UpstreamErrorCode>> = {
  ResourceNotFoundException: 'AWS_NOT_FOUND',
  AccessDeniedException: 'AWS_DENIED',
  UnrecognizedClientException: 'AWS_CREDENTIALS',
  InvalidSignatureException: 'AWS_CREDENTIALS',
  ExpiredTokenException: 'AWS_CREDENTIALS',
  ThrottlingException: 'AWS_THROTTLED',
  TooManyRequestsException: 'AWS_THROTTLED',
  ServiceUnavailableException: 'AWS_UNAVAILABLE',
  ServerException: 'AWS_UNAVAILABLE',
  AbortError: 'CANCELLED',
}

/**
 * DescribeCluster (endpoint + CA), cached per client and cluster for a few minutes; failures are
 * not cached. Throws UpstreamError AWS_NOT_FOUND (no such cluster in the region), AWS_DENIED,
 * AWS_CREDENTIALS, AWS_THROTTLED, AWS_UNAVAILABLE (also when the cluster is not ACTIVE/UPDATING),
 * CANCELLED or AWS_ERROR.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
 */
export function createEksClusterInfoCache(options: { readonly clock: Clock; readonly ttlMs?: number }): EksClusterInfoCache {
  const ttl = options.ttlMs ?? DEFAULT_TTL_MS
  const byClient = new WeakMap<EKSClient, Map<string, { info: EksClusterInfo; fetchedAt: number }>>()

  return {
    async describe(client, cluster, signal) {
      let entries = byClient.get(client)
      if (entries === undefined) {
        entries = new Map()
        byClient.set(client, entries)
      }
      const hit = entries.get(cluster)
      if (hit !== undefined && options.clock.now() - hit.fetchedAt < ttl) return hit.info

      let output: unknown
      try {
        output = (await client.send(new DescribeClusterCommand({ name: cluster }), signal === undefined ? {} : { abortSignal: signal })).cluster
      } catch (cause) {
        const name = cause instanceof Error ? cause.name : ''
        const code = ERROR_CODES[name] ?? 'AWS_ERROR'
        throw new UpstreamError(code, `DescribeCluster ${cluster} failed: ${name || 'unknown error'}`, {
          cause,
          ...(code === 'AWS_NOT_FOUND' ? { publicDetail: `EKS cluster "${cluster}" was not found in the connection's region.` } : {}),
        })
      }
      const parsed = describedCluster.safeParse(output)
      if (!parsed.success) throw new UpstreamError('AWS_ERROR', `DescribeCluster ${cluster} returned an unusable description`, { cause: parsed.error })
      if (parsed.data.status !== 'ACTIVE' && parsed.data.status !== 'UPDATING') {
        throw new UpstreamError('AWS_UNAVAILABLE', `EKS cluster ${cluster} is ${parsed.data.status}`, { publicDetail: `EKS cluster "${cluster}" is ${parsed.data.status}.` })
      }
      const info: EksClusterInfo = {
        name: parsed.data.name,
        arn: parsed.data.arn,
        endpoint: parsed.data.endpoint,
        caData: parsed.data.certificateAuthority.data,
        version: parsed.data.version,
      }
      entries.set(cluster, { info, fetchedAt: options.clock.now() })
      return info
    },
  }
}
