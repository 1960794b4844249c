import type { KubeFixtures, KubeLogLine } from './kube-fixtures.js'
import { KUBE_RESOURCE_TYPES, apiVersionOf, type KubeResourceType } from './kube-resources.js'
import { getPath, isPlainObject, type KubeObject } from './kube-selectors.js'

/** The stand-in's etcd: objects by resource, namespace and name, with a global resourceVersion. */
export interface KubeStore {
  list(type: KubeResourceType, namespace: string | undefined): KubeObject[]
  get(type: KubeResourceType, namespace: string | undefined, name: string): KubeObject | undefined
  /** Stores a new version of the object and returns it with its new resourceVersion. */
  put(type: KubeResourceType, object: KubeObject): KubeObject
  delete(type: KubeResourceType, namespace: string | undefined, name: string): KubeObject | undefined
  logs(namespace: string, pod: string, container: string, previous: boolean): readonly KubeLogLine[] | undefined
  resourceVersion(): string
}

export function createKubeStore(fixtures: KubeFixtures): KubeStore {
  const objects = new Map<string, KubeObject>()
  let version = 1000
  const key = (type: KubeResourceType, namespace: string | undefined, name: string) => `${type.resource}|${namespace ?? ''}|${name}`
  for (const object of fixtures.objects) {
    const type = KUBE_RESOURCE_TYPES.find((t) => t.kind === object['kind'] && apiVersionOf(t) === object['apiVersion'])
    const name = getPath(object, 'metadata.name')
    if (type === undefined || typeof name !== 'string') throw new TypeError(`fixture object of unknown type or without a name`)
    const rv = Number(getPath(object, 'metadata.resourceVersion'))
    if (Number.isInteger(rv) && rv > version) version = rv
    objects.set(key(type, namespaceOf(object), name), structuredClone(object))
  }
  const nameOf = (o: KubeObject) => String(getPath(o, 'metadata.name'))

  return {
    list(type, namespace) {
      const prefix = `${type.resource}|${namespace ?? ''}`
      return [...objects.entries()]
        .filter(([k]) => (namespace === undefined ? k.startsWith(`${type.resource}|`) : k.startsWith(`${prefix}|`)))
        .map(([, o]) => structuredClone(o))
        .sort((a, b) => `${namespaceOf(a) ?? ''}/${nameOf(a)}`.localeCompare(`${namespaceOf(b) ?? ''}/${nameOf(b)}`))
    },
    get(type, namespace, name) {
      const hit = objects.get(key(type, namespace, name))
      return hit === undefined ? undefined : structuredClone(hit)
    },
    put(type, object) {
      version += 1
      const metadata = { ...asRecord(object['metadata']), resourceVersion: String(version) }
      const stored = { ...object, metadata }
      objects.set(key(type, namespaceOf(stored), nameOf(stored)), structuredClone(stored))
      return stored
    },
    delete(type, namespace, name) {
      const k = key(type, namespace, name)
      const hit = objects.get(k)
      objects.delete(k)
      if (hit !== undefined) version += 1
      return hit
    },
    logs(namespace, pod, container, previous) {
      return fixtures.logs.get(`${namespace}/${pod}/${container}${previous ? '/previous' : ''}`)
    },
    resourceVersion: () => String(version),
  }
}

function namespaceOf(object: KubeObject): string | undefined {
  const ns = getPath(object, 'metadata.namespace')
  return typeof ns === 'string' ? ns : undefined
}

export function asRecord(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? { ...value } : {}
}

/** RFC 7386 JSON merge patch (also used for the strategic-merge patches kubectl sends for maps and scalars). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch
  const result = asRecord(target)
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k]
    else result[k] = mergePatch(result[k], v)
  }
  return result
}
