import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import type { KubeApis } from '../../src/aws/kube-client.js'
import type { KubeResource } from '../../src/policy/kubectl-constraints.js'
import { toPlain } from './kube-json.js'

export interface ListQuery {
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  readonly limit: number
}

interface ResourceOps {
  readonly kind: string
  list(apis: KubeApis, namespace: string | undefined, q: ListQuery): Promise<unknown>
  read(apis: KubeApis, namespace: string | undefined, name: string): Promise<unknown>
}

const q = (query: ListQuery) => ({
  ...(query.labelSelector === undefined ? {} : { labelSelector: query.labelSelector }),
  ...(query.fieldSelector === undefined ? {} : { fieldSelector: query.fieldSelector }),
  limit: query.limit,
})
const ns = (namespace: string | undefined) => namespace ?? ''

/** The typed client-node call behind each resource; results come back as plain JSON. */
export const RESOURCE_OPS: Readonly<Record<KubeResource, ResourceOps>> = {
  pods: { kind: 'Pod', list: (a, n, x) => a.core.listNamespacedPod({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.core.readNamespacedPod({ namespace: ns(n), name }) },
  services: { kind: 'Service', list: (a, n, x) => a.core.listNamespacedService({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.core.readNamespacedService({ namespace: ns(n), name }) },
  configmaps: { kind: 'ConfigMap', list: (a, n, x) => a.core.listNamespacedConfigMap({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.core.readNamespacedConfigMap({ namespace: ns(n), name }) },
  secrets: { kind: 'Secret', list: (a, n, x) => a.core.listNamespacedSecret({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.core.readNamespacedSecret({ namespace: ns(n), name }) },
  events: { kind: 'Event', list: (a, n, x) => a.core.listNamespacedEvent({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.core.readNamespacedEvent({ namespace: ns(n), name }) },
  namespaces: { kind: 'Namespace', list: (a, _n, x) => a.core.listNamespace(q(x)), read: (a, _n, name) => a.core.readNamespace({ name }) },
  nodes: { kind: 'Node', list: (a, _n, x) => a.core.listNode(q(x)), read: (a, _n, name) => a.core.readNode({ name }) },
  deployments: { kind: 'Deployment', list: (a, n, x) => a.apps.listNamespacedDeployment({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.apps.readNamespacedDeployment({ namespace: ns(n), name }) },
  replicasets: { kind: 'ReplicaSet', list: (a, n, x) => a.apps.listNamespacedReplicaSet({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.apps.readNamespacedReplicaSet({ namespace: ns(n), name }) },
  statefulsets: { kind: 'StatefulSet', list: (a, n, x) => a.apps.listNamespacedStatefulSet({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.apps.readNamespacedStatefulSet({ namespace: ns(n), name }) },
  daemonsets: { kind: 'DaemonSet', list: (a, n, x) => a.apps.listNamespacedDaemonSet({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.apps.readNamespacedDaemonSet({ namespace: ns(n), name }) },
  jobs: { kind: 'Job', list: (a, n, x) => a.batch.listNamespacedJob({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.batch.readNamespacedJob({ namespace: ns(n), name }) },
  cronjobs: { kind: 'CronJob', list: (a, n, x) => a.batch.listNamespacedCronJob({ namespace: ns(n), ...q(x) }), read: (a, n, name) => a.batch.readNamespacedCronJob({ namespace: ns(n), name }) },
}

export async function listObjects(apis: KubeApis, resource: KubeResource, namespace: string | undefined, query: ListQuery): Promise<unknown> {
  return toPlain(await RESOURCE_OPS[resource].list(apis, namespace, query))
}

export async function readObject(apis: KubeApis, resource: KubeResource, namespace: string | undefined, name: string): Promise<unknown> {
  return toPlain(await RESOURCE_OPS[resource].read(apis, namespace, name))
}

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch)
const STRATEGIC = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)

/** `kubectl scale`: a merge patch of the scale subresource. */
export async function scaleObject(apis: KubeApis, resource: KubeResource, namespace: string, name: string, replicas: number): Promise<unknown> {
  const param = { namespace, name, body: { spec: { replicas } } }
  switch (resource) {
    case 'deployments': return toPlain(await apis.apps.patchNamespacedDeploymentScale(param, MERGE))
    case 'statefulsets': return toPlain(await apis.apps.patchNamespacedStatefulSetScale(param, MERGE))
    case 'replicasets': return toPlain(await apis.apps.patchNamespacedReplicaSetScale(param, MERGE))
    default: throw new TypeError(`cannot scale ${resource}`)
  }
}

/** `kubectl rollout restart`: stamps the pod template with kubectl.kubernetes.io/restartedAt. */
export async function restartObject(apis: KubeApis, resource: KubeResource, namespace: string, name: string, at: string): Promise<unknown> {
  const param = { namespace, name, body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } } }
  switch (resource) {
    case 'deployments': return toPlain(await apis.apps.patchNamespacedDeployment(param, STRATEGIC))
    case 'statefulsets': return toPlain(await apis.apps.patchNamespacedStatefulSet(param, STRATEGIC))
    case 'daemonsets': return toPlain(await apis.apps.patchNamespacedDaemonSet(param, STRATEGIC))
    default: throw new TypeError(`cannot restart ${resource}`)
  }
}

export async function deletePod(apis: KubeApis, namespace: string, name: string): Promise<unknown> {
  return toPlain(await apis.core.deleteNamespacedPod({ namespace, name }))
}

export interface LogQuery {
  readonly container?: string | undefined
  /** The previous (terminated) container's log, as `kubectl logs --previous`. */
  readonly previous?: boolean | undefined
  readonly tailLines: number
  readonly sinceSeconds: number
  readonly limitBytes: number
}

export async function readLog(apis: KubeApis, namespace: string, name: string, query: LogQuery): Promise<string> {
  const text = await apis.core.readNamespacedPodLog({
    namespace, name, tailLines: query.tailLines, sinceSeconds: query.sinceSeconds, limitBytes: query.limitBytes,
    ...(query.container === undefined ? {} : { container: query.container }),
    ...(query.previous === true ? { previous: true } : {}),
  })
  return typeof text === 'string' ? text : ''
}
