import { Agent } from 'node:https'
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, type RequestContext } from '@kubernetes/client-node'
import type { EksClusterInfo } from './eks-cluster-info.js'
import type { EksTokenSource } from './eks-token.js'

/** Typed Kubernetes API clients for one cluster, authenticated with one EKS token. */
export interface KubeApis {
  readonly core: CoreV1Api
  readonly apps: AppsV1Api
  readonly batch: BatchV1Api
}

export interface KubeApiTarget {
  /** https URL of the API server (DescribeCluster endpoint). */
  readonly server: string
  /** Base64 PEM CA bundle (DescribeCluster certificateAuthority.data); TLS is always verified against it. */
  readonly caData: string
  readonly token: string
}

/**
 * client-node builds a new https.Agent for every API call, so every call paid a TLS handshake.
 * This config hands out one keep-alive agent per cluster instead; it verifies the server against
 * the cluster CA exactly as the per-call agents did.
 */
class KeepAliveKubeConfig extends KubeConfig {
  readonly agent: Agent
  constructor(caData: string) {
    super()
    this.agent = new Agent({ keepAlive: true, ca: Buffer.from(caData, 'base64'), rejectUnauthorized: true })
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context)
    context.setAgent(this.agent)
  }
}

function buildKubeApis(target: KubeApiTarget): { apis: KubeApis; agent: Agent } {
  const config = new KeepAliveKubeConfig(target.caData)
  config.loadFromOptions({
    clusters: [{ name: 'eks', server: target.server, caData: target.caData, skipTLSVerify: false }],
    users: [{ name: 'airlock-gateway', token: target.token }],
    contexts: [{ name: 'airlock', cluster: 'eks', user: 'airlock-gateway' }],
    currentContext: 'airlock',
  })
  const apis = {
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    batch: config.makeApiClient(BatchV1Api),
  }
  return { apis, agent: config.agent }
}

/** Builds the clients from an in-memory kubeconfig: one cluster, one bearer-token user, TLS verified. */
export function createKubeApis(target: KubeApiTarget): KubeApis {
  return buildKubeApis(target).apis
}

export interface KubeClientSource {
  /** Clients for the cluster, rebuilt whenever its EKS token is regenerated. */
  apis(cluster: EksClusterInfo): Promise<KubeApis>
  /** Closes the kept-alive connections of the current clients (when the source is dropped from a cache). */
  close(): void
}

/** Keeps one set of clients per cluster and swaps them when the token source hands out a new token. */
export function createKubeClientSource(tokens: EksTokenSource): KubeClientSource {
  const current = new Map<string, { token: string; server: string; caData: string; apis: KubeApis; agent: Agent }>()
  return {
    async apis(cluster) {
      const { token } = await tokens.token(cluster.name)
      const hit = current.get(cluster.arn)
      if (hit !== undefined && hit.token === token && hit.server === cluster.endpoint && hit.caData === cluster.caData) return hit.apis
      const { apis, agent } = buildKubeApis({ server: cluster.endpoint, caData: cluster.caData, token })
      current.set(cluster.arn, { token, server: cluster.endpoint, caData: cluster.caData, apis, agent })
      return apis
    },
    close() {
      for (const { agent } of current.values()) agent.destroy()
      current.clear()
    },
  }
}
