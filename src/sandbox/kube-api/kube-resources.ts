/** The API resources the stand-in serves, as discovery describes them. */
export interface KubeResourceType {
  readonly resource: string
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly namespaced: boolean
  readonly shortNames: readonly string[]
  readonly verbs: readonly string[]
  readonly subresources: readonly string[]
}

const READ = ['get', 'list']
const core = (resource: string, kind: string, namespaced: boolean, shortNames: string[], verbs = READ, subresources: string[] = []) =>
  ({ resource, group: '', version: 'v1', kind, namespaced, shortNames, verbs, subresources })
const apps = (resource: string, kind: string, shortNames: string[], verbs = READ, subresources: string[] = []) =>
  ({ resource, group: 'apps', version: 'v1', kind, namespaced: true, shortNames, verbs, subresources })
const batch = (resource: string, kind: string, shortNames: string[]) =>
  ({ resource, group: 'batch', version: 'v1', kind, namespaced: true, shortNames, verbs: READ, subresources: [] })

export const KUBE_RESOURCE_TYPES: readonly KubeResourceType[] = [
  core('namespaces', 'Namespace', false, ['ns']),
  core('nodes', 'Node', false, ['no']),
  core('pods', 'Pod', true, ['po'], ['get', 'list', 'delete'], ['log']),
  core('services', 'Service', true, ['svc']),
  core('configmaps', 'ConfigMap', true, ['cm']),
  core('secrets', 'Secret', true, []),
  core('events', 'Event', true, ['ev']),
  apps('deployments', 'Deployment', ['deploy'], ['get', 'list', 'patch', 'update'], ['scale']),
  apps('replicasets', 'ReplicaSet', ['rs'], ['get', 'list', 'patch', 'update'], ['scale']),
  apps('statefulsets', 'StatefulSet', ['sts'], ['get', 'list', 'patch', 'update'], ['scale']),
  apps('daemonsets', 'DaemonSet', ['ds'], ['get', 'list', 'patch', 'update']),
  batch('jobs', 'Job', []),
  batch('cronjobs', 'CronJob', ['cj']),
]

export function apiVersionOf(type: Pick<KubeResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`
}

export function findResourceType(group: string, version: string, resource: string): KubeResourceType | undefined {
  return KUBE_RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource)
}
