import { awsIdentity, type AwsClients, type AwsTarget } from '../../src/aws/aws-clients.js'
import { createBoundedCache } from '../../src/aws/bounded-cache.js'
import { createEksClusterInfoCache, type EksClusterInfo } from '../../src/aws/eks-cluster-info.js'
import { createEksTokenSource } from '../../src/aws/eks-token.js'
import type { KubeApis, KubeClientSource } from '../../src/aws/kube-client.js'
import type { Clock } from '../../src/clock.js'

/** What the kubectl tool keeps across calls: cluster descriptions, EKS tokens and API clients. */
export interface KubeRuntime {
  /**
   * The cluster's description (DescribeCluster, cached) and API clients authenticated as the
   * gateway with a cached EKS token. Throws UpstreamError AWS_* from DescribeCluster or token generation.
   */
  apisFor(target: AwsTarget, cluster: string, signal: AbortSignal): Promise<{ info: EksClusterInfo; apis: KubeApis }>
}

export interface KubeRuntimeOptions {
  readonly aws: AwsClients
  readonly clock: Clock
  /** Most identities with clients kept, least recently used dropped first; default 1000. */
  readonly maxIdentities?: number
  /** Clients of an identity unused this long are dropped; default one hour. */
  readonly idleMs?: number
}

/**
 * Builds the kubectl tool's runtime, once per gateway (src/cli). @kubernetes/client-node is
 * loaded on the first call, so a gateway that serves no EKS connection never pays for it.
 */
export function createKubeRuntime(options: KubeRuntimeOptions): KubeRuntime {
  const clusterInfo = createEksClusterInfoCache({ clock: options.clock })
  // Same identity rule as the AWS clients: role sessions are per principal, the gateway's own are shared.
  const sources = createBoundedCache<KubeClientSource>({
    maxEntries: options.maxIdentities ?? 1000,
    clock: options.clock,
    idleMs: options.idleMs ?? 60 * 60_000,
    onEvict: (source) => source.close(),
  })
  let kubeClient: Promise<typeof import('../../src/aws/kube-client.js')> | undefined

  return {
    async apisFor(target, cluster, signal) {
      const info = await clusterInfo.describe(options.aws.eks(target), cluster, signal)
      // Memoized: even a cached import() goes through the module loader's resolve hooks on every call.
      kubeClient ??= import('../../src/aws/kube-client.js')
      const { createKubeClientSource } = await kubeClient
      const source = sources.getOrCreate(awsIdentity(target), () =>
        createKubeClientSource(createEksTokenSource({
          credentials: options.aws.credentials(target),
          region: target.region,
          clock: options.clock,
          stsEndpoint: options.aws.stsEndpoint(target.region),
        })),
      )
      return { info, apis: await source.apis(info) }
    },
  }
}
