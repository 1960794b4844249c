import { awsIdentityKey, type AwsTarget } from '../../src/aws/aws-clients.js'
import { createEksClusterInfoCache, type EksClusterInfo, type EksClusterInfoCache } from '../../src/aws/eks-cluster-info.js'
import { createEksTokenSource } from '../../src/aws/eks-token.js'
import { createKubeClientSource, type KubeApis, type KubeClientSource } from '../../src/aws/kube-client.js'
import type { ToolDeps } from '../define-tool.js'

interface KubeRuntime {
  readonly clusterInfo: EksClusterInfoCache
  readonly clients: Map<string, KubeClientSource>
}

// Tokens, cluster descriptions and clients outlive a call: one runtime per gateway deps object.
const runtimes = new WeakMap<ToolDeps, KubeRuntime>()

function runtimeFor(deps: ToolDeps): KubeRuntime {
  let runtime = runtimes.get(deps)
  if (runtime === undefined) {
    runtime = { clusterInfo: createEksClusterInfoCache({ clock: deps.clock }), clients: new Map() }
    runtimes.set(deps, runtime)
  }
  return runtime
}

/**
 * The cluster's description (DescribeCluster, cached) and API clients authenticated as the gateway
 * with a cached EKS token. Throws UpstreamError AWS_* from DescribeCluster or token generation.
 */
export async function kubeApisFor(deps: ToolDeps, target: AwsTarget, cluster: string, signal: AbortSignal): Promise<{ info: EksClusterInfo; apis: KubeApis }> {
  const runtime = runtimeFor(deps)
  const info = await runtime.clusterInfo.describe(deps.aws.eks(target), cluster, signal)
  // Same identity rule as the AWS clients: role sessions are per principal, the gateway's own are shared.
  const key = awsIdentityKey(target)
  let source = runtime.clients.get(key)
  if (source === undefined) {
    source = createKubeClientSource(createEksTokenSource({
      credentials: deps.aws.credentials(target),
      region: target.region,
      clock: deps.clock,
      stsEndpoint: deps.aws.stsEndpoint(target.region),
    }))
    runtime.clients.set(key, source)
  }
  return { info, apis: await source.apis(info) }
}
