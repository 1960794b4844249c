import type { EksConnection, NamedConnection } from '../policy/connection-schema.js'
import type { KubeResource, KubeVerb } from '../policy/kubectl-constraints.js'
import type { Grant } from '../policy/policy-schema.js'

export interface RbacRule {
  readonly apiGroups: readonly string[]
  readonly resources: readonly string[]
  readonly verbs: readonly string[]
}

/** A Kubernetes RBAC object (Role, ClusterRole, RoleBinding, ClusterRoleBinding) as plain JSON. */
export interface RbacObject {
  readonly apiVersion: 'rbac.authorization.k8s.io/v1'
  readonly kind: 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding'
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels: Readonly<Record<string, string>> }
  readonly rules?: readonly RbacRule[]
  readonly roleRef?: { readonly apiGroup: 'rbac.authorization.k8s.io'; readonly kind: 'Role' | 'ClusterRole'; readonly name: string }
  readonly subjects?: readonly { readonly kind: 'Group'; readonly apiGroup: 'rbac.authorization.k8s.io'; readonly name: string }[]
}

export interface EksAccess {
  readonly connection: string
  readonly cluster: string
  readonly region: string
  /** The Kubernetes group the gateway's IAM identity is mapped to. */
  readonly group: string
  /** EKS access entry (CreateAccessEntry); undefined when the IAM role is not known. */
  readonly accessEntry: { readonly clusterName: string; readonly principalArn: string; readonly type: 'STANDARD'; readonly kubernetesGroups: readonly string[] } | undefined
  /** The equivalent `aws-auth` ConfigMap mapRoles entry for clusters not using access entries. */
  readonly awsAuthMapRole: { readonly rolearn: string; readonly username: string; readonly groups: readonly string[] } | undefined
  readonly rbac: readonly RbacObject[]
}

const API_GROUPS = {
  pods: '', services: '', configmaps: '', events: '', namespaces: '', nodes: '', secrets: '',
  deployments: 'apps', replicasets: 'apps', statefulsets: 'apps', daemonsets: 'apps',
  jobs: 'batch', cronjobs: 'batch',
} as const satisfies Record<KubeResource, string>
const API_GROUP: ReadonlyMap<string, string> = new Map(Object.entries(API_GROUPS))
const CLUSTER_SCOPED = new Set<string>(['nodes', 'namespaces'])
const SCALABLE = new Set<string>(['deployments', 'statefulsets', 'replicasets'])
const RESTARTABLE = new Set<string>(['deployments', 'statefulsets', 'daemonsets'])

/** kubectl verb → the (resource, Kubernetes verb) pairs it needs. */
export function kubeRulesFor(verb: KubeVerb, resources: readonly KubeResource[]): Array<readonly [resource: string, verb: string]> {
  switch (verb) {
    case 'get':
    case 'describe':
      return resources.map((r) => [r, 'get'] as const)
    case 'list':
      return resources.map((r) => [r, 'list'] as const)
    case 'logs':
      return [['pods/log', 'get']]
    case 'events':
      return [['events', 'list']]
    case 'scale':
      return resources.filter((r) => SCALABLE.has(r)).map((r) => [`${r}/scale`, 'patch'] as const)
    case 'rollout-restart':
      return resources.filter((r) => RESTARTABLE.has(r)).map((r) => [r, 'patch'] as const)
    case 'delete-pod':
      return [['pods', 'delete']]
  }
}

function groupOf(resource: string): string {
  const base = resource.split('/')[0] ?? resource
  return API_GROUP.get(base) ?? ''
}

/** Merges (resource, verb) pairs into sorted rules, one per resource. */
function toRules(pairs: Iterable<readonly [string, string]>): RbacRule[] {
  const verbs = new Map<string, Set<string>>()
  for (const [resource, verb] of pairs) verbs.set(resource, (verbs.get(resource) ?? new Set()).add(verb))
  return [...verbs.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([resource, v]) => ({ apiGroups: [groupOf(resource)], resources: [resource], verbs: [...v].sort() }))
}

/**
 * RBAC matching the grants that reach one EKS connection. Exact namespaces get a Role and
 * RoleBinding each; a namespace glob cannot be expressed in RBAC, so it becomes a ClusterRole
 * (the gateway still enforces the glob) and a warning. Nodes and namespaces are cluster-scoped.
 */
export function eksAccessFor(connection: NamedConnection<EksConnection>, grants: readonly Grant[], roleArn: string | undefined, warnings: string[]): EksAccess {
  const name = `airlock-${connection.id}`
  const labels = { 'app.kubernetes.io/managed-by': 'airlock', 'airlock.dev/connection': connection.id }
  const namespaced = new Map<string, Array<readonly [string, string]>>()
  const clusterWide: Array<readonly [string, string]> = []
  for (const grant of grants) {
    if (!grant.connections.includes(connection.id) || grant.kubectl === undefined) continue
    const pairs = grant.kubectl.verbs.flatMap((v) => kubeRulesFor(v, grant.kubectl?.resources ?? []))
    const scoped = pairs.filter(([r]) => !CLUSTER_SCOPED.has(r.split('/')[0] ?? r))
    clusterWide.push(...pairs.filter(([r]) => CLUSTER_SCOPED.has(r.split('/')[0] ?? r)))
    for (const ns of grant.kubectl.namespaces) {
      if (/[*?]/.test(ns)) {
        warnings.push(`connection ${connection.id}: grant ${grant.id} namespace pattern "${ns}" needs cluster-wide RBAC; the gateway enforces the pattern`)
        clusterWide.push(...scoped)
      } else {
        namespaced.set(ns, [...(namespaced.get(ns) ?? []), ...scoped])
      }
    }
  }
  const subjects = [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name } as const]
  const rbac: RbacObject[] = []
  const clusterRules = toRules(clusterWide)
  if (clusterRules.length > 0) {
    rbac.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: clusterRules })
    rbac.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    })
  }
  for (const ns of [...namespaced.keys()].sort()) {
    const rules = toRules(namespaced.get(ns) ?? [])
    if (rules.length === 0) continue
    rbac.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: ns, labels }, rules })
    rbac.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects,
    })
  }
  return {
    connection: connection.id,
    cluster: connection.cluster,
    region: connection.region,
    group: name,
    accessEntry: roleArn === undefined ? undefined : { clusterName: connection.cluster, principalArn: roleArn, type: 'STANDARD', kubernetesGroups: [name] },
    awsAuthMapRole: roleArn === undefined ? undefined : { rolearn: roleArn, username: 'airlock-gateway:{{SessionName}}', groups: [name] },
    rbac,
  }
}
