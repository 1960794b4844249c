import { GuardError, InputError } from '../../src/errors.js'
import { WRITE_VERBS, type KubeResource, type KubeVerb, type KubectlConstraints } from '../../src/policy/kubectl-constraints.js'

export interface KubectlArgs {
  readonly verb: KubeVerb
  readonly resource: KubeResource
  readonly namespace?: string | undefined
  readonly name?: string | undefined
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  readonly container?: string | undefined
  readonly previous?: boolean | undefined
  readonly tailLines?: number | undefined
  readonly sinceSeconds?: number | undefined
  readonly replicas?: number | undefined
}

/** What the checks settled: where to look, and whether a namespace list must be filtered to the grant. */
export interface KubeAccessPlan {
  /** Undefined for cluster-scoped resources. */
  readonly namespace: string | undefined
  /** `list namespaces` without "*": only namespaces matching the grant are shown. */
  readonly namespaceFilter: ((name: string) => boolean) | undefined
}

export const CLUSTER_SCOPED: ReadonlySet<KubeResource> = new Set(['nodes', 'namespaces'])
const SCALABLE: ReadonlySet<KubeResource> = new Set(['deployments', 'statefulsets', 'replicasets'])
const RESTARTABLE: ReadonlySet<KubeResource> = new Set(['deployments', 'statefulsets', 'daemonsets'])
const NEEDS_NAME: ReadonlySet<KubeVerb> = new Set(['get', 'describe', 'logs', 'scale', 'rollout-restart', 'delete-pod'])

/** Namespace globs: `*` any run of characters, `?` one character; "*" alone is every namespace. */
export function namespaceMatcher(globs: readonly string[]): (namespace: string) => boolean {
  const patterns = globs.map((g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`))
  return (namespace) => patterns.some((p) => p.test(namespace))
}

/**
 * Checks a kubectl call against the grant before anything reaches the cluster. Secrets and write
 * verbs pass only when the grant lists them. Cluster-scoped resources: `nodes` need the grant's
 * namespaces to include "*"; `namespaces` may be read by name when the name matches the grant, and
 * a namespace list is filtered to the matching names unless the grant says "*".
 * Throws GuardError K8S_NOT_ALLOWED (not granted) or InputError INPUT_INVALID (ill-formed call).
 */
export function checkKubeAccess(constraints: KubectlConstraints, args: KubectlArgs): KubeAccessPlan {
  const { verb, resource } = args
  const refuse = (why: string) => new GuardError('K8S_NOT_ALLOWED', why)
  const invalid = (why: string) => new InputError('INPUT_INVALID', why)

  if (!constraints.verbs.includes(verb)) throw refuse(`verb "${verb}" is not in your grant; use one of: ${constraints.verbs.join(', ')}`)
  if (!constraints.resources.includes(resource)) {
    throw refuse(`resource "${resource}" is not in your grant; use one of: ${constraints.resources.join(', ')}`)
  }
  if (verb === 'logs' && resource !== 'pods') {
    throw invalid('logs are read from pods: use resource "pods" (list pods with a labelSelector such as "app=<name>" to find a workload\'s pods)')
  }
  if (verb === 'delete-pod' && resource !== 'pods') throw invalid('delete-pod deletes pods: use resource "pods"')
  if (verb === 'scale' && !SCALABLE.has(resource)) throw invalid('scale works on deployments, statefulsets and replicasets')
  if (verb === 'rollout-restart' && !RESTARTABLE.has(resource)) throw invalid('rollout-restart works on deployments, statefulsets and daemonsets')
  if (verb === 'scale' && args.replicas === undefined) throw invalid('scale needs "replicas"')
  if (verb !== 'scale' && args.replicas !== undefined) throw invalid('"replicas" is only for scale')
  if (NEEDS_NAME.has(verb) && args.name === undefined) {
    const where = CLUSTER_SCOPED.has(resource) || args.namespace === undefined ? '' : ` in namespace "${args.namespace}"`
    throw invalid(`"${verb}" needs "name"; use verb "list" on resource "${verb === 'logs' || verb === 'delete-pod' ? 'pods' : resource}"${where} to find names`)
  }
  const names = constraints.names
  if (names !== undefined && (WRITE_VERBS as readonly string[]).includes(verb) && !names.includes(args.name ?? '')) {
    throw refuse(`${verb} may act only on ${names.map((n) => JSON.stringify(n)).join(', ')} under your grant`)
  }
  if (verb === 'list' && args.name !== undefined) throw invalid('list takes no "name"; use get, or a fieldSelector')
  if ((args.labelSelector !== undefined || args.fieldSelector !== undefined) && verb !== 'list' && verb !== 'events') {
    throw invalid(`selectors are only for list and events; use verb "list" with the selector to find ${resource}`)
  }
  if (verb !== 'logs' && (args.container !== undefined || args.previous !== undefined || args.tailLines !== undefined || args.sinceSeconds !== undefined)) {
    throw invalid('"container", "previous", "tailLines" and "sinceSeconds" are only for logs; use verb "logs" on resource "pods"')
  }

  const allowed = namespaceMatcher(constraints.namespaces)
  const everyNamespace = constraints.namespaces.includes('*')
  if (CLUSTER_SCOPED.has(resource)) {
    if (verb === 'events') throw invalid(`events are read per namespace; ${resource} are cluster-scoped`)
    if (resource === 'nodes' && !everyNamespace) throw refuse('nodes are cluster-scoped: your grant must list namespaces ["*"] to read them')
    if (resource === 'namespaces' && args.name !== undefined && !allowed(args.name)) {
      throw refuse(`namespace "${args.name}" is not in your grant; use one of: ${constraints.namespaces.join(', ')}`)
    }
    return { namespace: undefined, namespaceFilter: resource === 'namespaces' && !everyNamespace ? allowed : undefined }
  }
  if (args.namespace === undefined) throw invalid(`"namespace" is required for ${resource}; your grant allows: ${constraints.namespaces.join(', ')}`)
  if (!allowed(args.namespace)) {
    throw refuse(`namespace "${args.namespace}" is not in your grant; use one of: ${constraints.namespaces.join(', ')}`)
  }
  return { namespace: args.namespace, namespaceFilter: undefined }
}

export function isWriteVerb(verb: KubeVerb): boolean {
  return WRITE_VERBS.some((w) => w === verb)
}
