import { EKSClient } from '@aws-sdk/client-eks'
import { RDSDataClient } from '@aws-sdk/client-rds-data'
import { SSMClient } from '@aws-sdk/client-ssm'
import type { AwsCredentialIdentityProvider, RetryStrategyV2, StandardRetryToken } from '@smithy/types'
import { awsIdentity, type AwsClients, type AwsTarget } from '../aws/aws-clients.js'
import { createBoundedCache } from '../aws/bounded-cache.js'
import { neverSent } from '../aws/request-outcome.js'
import { UpstreamError } from '../errors.js'

export interface AwsClientOptions {
  /** The gateway's own credentials: the SDK default chain in production (IRSA web identity in EKS). */
  readonly credentials: AwsCredentialIdentityProvider
  /** Per-service endpoint overrides (the sandbox emulators); production leaves these unset. */
  readonly endpoints?: { readonly rdsData?: string; readonly ssm?: string; readonly eks?: string }
  /**
   * Credentials for a per-connection role, assumed by the gateway as itself and tagged with the
   * principal's identity. Absent: connections with `roleArn` are refused (fail closed).
   */
  readonly roleCredentials?: (roleArn: string, target: AwsTarget) => AwsCredentialIdentityProvider
  readonly maxAttempts?: number
  /** Most clients kept (one per service and identity); default 1000. */
  readonly maxCachedClients?: number
  /** Bounds on every HTTP request the clients make; tools pass tighter per-call bounds. */
  readonly timeouts?: AwsClientTimeouts
}

export interface AwsClientTimeouts {
  /** Until the TCP (and TLS) connection is up. Default 3 s. */
  readonly connectMs?: number
  /** From sending until the response headers, unless a call sets its own (a long statement). Default 30 s. */
  readonly requestMs?: number
}

/** Longest a socket may sit idle mid-response; above every per-call bound (the Data API answers within 45 s). */
const SOCKET_IDLE_MS = 60_000

/**
 * Retries only what provably did not run: throttling (AWS refused the request) and connection
 * failures before anything was sent. A call that failed with a 5xx, a reset or a timeout may
 * already have acted (a command run, a statement committed), and doing it twice is worse than an
 * error, so the tools report it as an unknown outcome instead.
 */
export function atMostOnceRetry(maxAttempts: number): RetryStrategyV2 {
  const token = (count: number, delay: number): StandardRetryToken => ({ getRetryCount: () => count, getRetryDelay: () => delay, getRetryCost: () => 0 })
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    async refreshRetryTokenForRetry(previous, info) {
      const count = previous.getRetryCount() + 1
      const retryable = info.errorType === 'THROTTLING' || neverSent(info.error)
      if (!retryable || count >= maxAttempts) throw info.error ?? new UpstreamError('AWS_ERROR', 'not retried')
      // Exponential backoff with jitter, capped at 5 s.
      return token(count, Math.min(5000, 100 * 2 ** count * (0.5 + Math.random() / 2)))
    },
    recordSuccess: () => {},
  }
}

interface ClientConfig {
  readonly region: string
  readonly credentials: AwsCredentialIdentityProvider
  readonly maxAttempts: number
  readonly retryStrategy: RetryStrategyV2
  readonly requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean; socketTimeout: number }
  readonly endpoint?: string
}

/** Per-identity role clients would otherwise accumulate for every agent that ever called. */
const MAX_CACHED_CLIENTS = 1000

type AnyClient = RDSDataClient | SSMClient | EKSClient

/** Builds (and caches per service and identity, least recently used dropped first) the SDK clients the tools use. */
export function createAwsClients(options: AwsClientOptions): AwsClients {
  // Without throwOnRequestTimeout, @smithy/node-http-handler only logs a breached requestTimeout
  // (and its default socket timeout is 15 minutes); socketTimeout bounds a body that stops arriving.
  const requestHandler = {
    connectionTimeout: options.timeouts?.connectMs ?? 3_000,
    requestTimeout: options.timeouts?.requestMs ?? 30_000,
    throwOnRequestTimeout: true,
    socketTimeout: SOCKET_IDLE_MS,
  }
  const cache = createBoundedCache<AnyClient>({
    maxEntries: options.maxCachedClients ?? MAX_CACHED_CLIENTS,
    onEvict: (client) => client.destroy(),
  })

  function credentialsFor(target: AwsTarget): AwsCredentialIdentityProvider {
    if (target.roleArn === undefined) return options.credentials
    if (options.roleCredentials === undefined) {
      throw new TypeError('connection has roleArn but no role credential provider is configured')
    }
    return options.roleCredentials(target.roleArn, target)
  }

  function cached<C extends AnyClient>(
    service: string,
    target: AwsTarget,
    build: (config: ClientConfig) => C,
    endpoint: string | undefined,
  ): C {
    const create = () =>
      build({
        region: target.region,
        credentials: credentialsFor(target),
        maxAttempts: options.maxAttempts ?? 3,
        retryStrategy: atMostOnceRetry(options.maxAttempts ?? 3),
        requestHandler,
        ...(endpoint === undefined ? {} : { endpoint }),
      })
    // The service is part of the key, so a hit is a client of the kind `build` makes.
    return cache.getOrCreate([service, ...awsIdentity(target)], create) as C
  }

  return {
    rdsData: (target) =>
      cached('rds-data', target, (c) => new RDSDataClient(c), options.endpoints?.rdsData),
    ssm: (target) => cached('ssm', target, (c) => new SSMClient(c), options.endpoints?.ssm),
    eks: (target) => cached('eks', target, (c) => new EKSClient(c), options.endpoints?.eks),
    credentials: (target) => credentialsFor(target),
    stsEndpoint: (region) => new URL(`https://sts.${region}.amazonaws.com/`),
    requestTimeoutMs: requestHandler.requestTimeout,
  }
}
