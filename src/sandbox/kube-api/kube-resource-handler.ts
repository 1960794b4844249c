import { createHash } from 'node:crypto'
import { apiVersionOf, type KubeResourceType } from './kube-resources.js'
import { getPath, parseFieldSelector, parseLabelSelector, type KubeObject } from './kube-selectors.js'
import { json, notFound, statusFailure, type KubeResponse } from './kube-status.js'
import { asRecord, mergePatch, type KubeStore } from './kube-store.js'

export interface KubeRoute {
  readonly type: KubeResourceType
  readonly namespace: string | undefined
  readonly name: string | undefined
  readonly subresource: string | undefined
}

export interface KubeCall {
  readonly method: string
  readonly route: KubeRoute
  readonly query: URLSearchParams
  readonly body: unknown
  readonly contentType: string
  readonly now: number
}

const MERGE_TYPES = ['application/merge-patch+json', 'application/strategic-merge-patch+json']

/** Serves one authorised resource request from the store. */
export function handleResource(store: KubeStore, call: KubeCall): KubeResponse {
  const { route, method } = call
  const { type } = route
  if (route.name === undefined) {
    if (method === 'GET') return list(store, call)
    return statusFailure(405, `the server does not allow this method on the requested resource`)
  }
  const object = store.get(type, route.namespace, route.name)
  if (object === undefined) return notFound(type.resource, type.group, route.name)
  const sub = route.subresource
  if (sub === undefined) {
    if (method === 'GET') return json(object)
    if (method === 'DELETE' && type.verbs.includes('delete')) {
      store.delete(type, route.namespace, route.name)
      const metadata = { ...asRecord(object['metadata']), deletionTimestamp: rfc3339(call.now + 30_000), deletionGracePeriodSeconds: 30 }
      return json({ ...object, metadata })
    }
    if (method === 'PATCH' && type.verbs.includes('patch')) {
      const patch = patchBody(call)
      if ('status' in patch) return patch
      const next = asRecord(mergePatch(object, patch.patch))
      next['metadata'] = { ...asRecord(next['metadata']), name: route.name, ...(route.namespace === undefined ? {} : { namespace: route.namespace }), uid: getPath(object, 'metadata.uid') }
      if (JSON.stringify(next['spec']) !== JSON.stringify(object['spec'])) {
        const generation = Number(getPath(object, 'metadata.generation') ?? 1) + 1
        next['metadata'] = { ...asRecord(next['metadata']), generation }
      }
      return json(store.put(type, next))
    }
    return statusFailure(405, `the server does not allow this method on the requested resource`)
  }
  if (sub === 'log' && type.resource === 'pods' && method === 'GET') return podLog(store, call, object)
  if (sub === 'scale' && type.subresources.includes('scale')) return scale(store, call, object)
  return statusFailure(404, 'the server could not find the requested resource')
}

function list(store: KubeStore, call: KubeCall): KubeResponse {
  const { type, namespace } = call.route
  let items = store.list(type, namespace)
  const labelSelector = call.query.get('labelSelector')
  if (labelSelector !== null) {
    const match = parseLabelSelector(labelSelector)
    if (match === undefined) return statusFailure(400, `unable to parse requirement: invalid label selector "${labelSelector}"`)
    items = items.filter(match)
  }
  const fieldSelector = call.query.get('fieldSelector')
  if (fieldSelector !== null) {
    const parsed = parseFieldSelector(fieldSelector, type.kind)
    if (!parsed.ok) return statusFailure(400, parsed.message)
    items = items.filter(parsed.match)
  }
  // Continue tokens are bound to the query that produced them.
  const fingerprint = createHash('sha256').update(JSON.stringify([type.resource, namespace, labelSelector, fieldSelector])).digest('base64url').slice(0, 16)
  let offset = 0
  const token = call.query.get('continue')
  if (token !== null && token !== '') {
    const decoded = /^(\d{1,9})\.([\w-]{16})$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
    if (decoded === null || decoded[2] !== fingerprint) return statusFailure(400, 'continue key is not valid')
    offset = Number(decoded[1])
  }
  const limitParam = call.query.get('limit')
  const limit = limitParam === null ? 0 : Number(limitParam)
  if (!Number.isInteger(limit) || limit < 0) return statusFailure(400, `invalid limit: ${limitParam ?? ''}`)
  const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset)
  const remaining = items.length - offset - page.length
  const metadata: Record<string, unknown> = { resourceVersion: store.resourceVersion() }
  if (limit > 0 && remaining > 0) {
    metadata['continue'] = Buffer.from(`${offset + page.length}.${fingerprint}`).toString('base64url')
    metadata['remainingItemCount'] = remaining
  }
  // Items in a typed list carry no kind/apiVersion of their own.
  const bare = page.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest)
  return json({ kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items: bare })
}

function podLog(store: KubeStore, call: KubeCall, pod: KubeObject): KubeResponse {
  const podName = call.route.name ?? ''
  const namespace = call.route.namespace ?? ''
  const containers = asArray(getPath(pod, 'spec.containers')).map((c) => String(getPath(c, 'name')))
  let container = call.query.get('container')
  if (container === null || container === '') {
    if (containers.length !== 1) {
      return statusFailure(400, `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`)
    }
    container = containers[0] ?? ''
  } else if (!containers.includes(container)) {
    return statusFailure(400, `container ${container} is not valid for pod ${podName}`)
  }
  const previous = call.query.get('previous') === 'true'
  const lines = store.logs(namespace, podName, container, previous)
  if (lines === undefined && previous) return statusFailure(400, `previous terminated container "${container}" in pod "${podName}" not found`)
  const ints: Record<string, number | undefined> = {}
  for (const param of ['tailLines', 'sinceSeconds', 'limitBytes']) {
    const raw = call.query.get(param)
    if (raw === null) continue
    const n = Number(raw)
    if (!/^\d+$/.test(raw) || (param !== 'tailLines' && n < 1)) return statusFailure(422, `Invalid value: ${raw}: ${param} must be a non-negative integer`)
    ints[param] = n
  }
  let selected = lines ?? []
  if (ints['sinceSeconds'] !== undefined) {
    const since = call.now - ints['sinceSeconds'] * 1000
    selected = selected.filter((l) => l.at >= since)
  }
  if (ints['tailLines'] !== undefined) selected = ints['tailLines'] === 0 ? [] : selected.slice(-ints['tailLines'])
  let text = selected.map((l) => `${l.text}\n`).join('')
  if (ints['limitBytes'] !== undefined) text = Buffer.from(text, 'utf8').subarray(0, ints['limitBytes']).toString('utf8')
  return { status: 200, body: text, contentType: 'text/plain' }
}

function scale(store: KubeStore, call: KubeCall, object: KubeObject): KubeResponse {
  const { type } = call.route
  const toScale = (o: KubeObject) => ({
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: {
      name: getPath(o, 'metadata.name'), namespace: getPath(o, 'metadata.namespace'), uid: getPath(o, 'metadata.uid'),
      resourceVersion: getPath(o, 'metadata.resourceVersion'), creationTimestamp: getPath(o, 'metadata.creationTimestamp'),
    },
    spec: { replicas: getPath(o, 'spec.replicas') },
    status: {
      replicas: getPath(o, 'status.replicas') ?? 0,
      selector: Object.entries(asRecord(getPath(o, 'spec.selector.matchLabels'))).map(([k, v]) => `${k}=${String(v)}`).join(','),
    },
  })
  if (call.method === 'GET') return json(toScale(object))
  let desired: unknown
  if (call.method === 'PATCH') {
    const patch = patchBody(call)
    if ('status' in patch) return patch
    desired = getPath(mergePatch(toScale(object), patch.patch), 'spec.replicas')
  } else if (call.method === 'PUT') {
    const sentVersion = getPath(call.body, 'metadata.resourceVersion')
    if (sentVersion !== undefined && sentVersion !== '' && sentVersion !== getPath(object, 'metadata.resourceVersion')) {
      return statusFailure(409, `Operation cannot be fulfilled on ${type.resource}.${type.group} "${call.route.name ?? ''}": the object has been modified; please apply your changes to the latest version and try again`, { name: call.route.name ?? '', group: type.group, kind: type.resource })
    }
    desired = getPath(call.body, 'spec.replicas')
  } else {
    return statusFailure(405, `the server does not allow this method on the requested resource`)
  }
  if (typeof desired !== 'number' || !Number.isInteger(desired) || desired < 0) {
    return statusFailure(422, `Scale.autoscaling "${call.route.name ?? ''}" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0`)
  }
  const spec = { ...asRecord(object['spec']), replicas: desired }
  const generation = Number(getPath(object, 'metadata.generation') ?? 1) + 1
  const stored = store.put(type, { ...object, spec, metadata: { ...asRecord(object['metadata']), generation } })
  return json(toScale(stored))
}

function patchBody(call: KubeCall): { patch: unknown } | KubeResponse {
  const mediaType = call.contentType.split(';')[0]?.trim().toLowerCase() ?? ''
  if (!MERGE_TYPES.includes(mediaType)) return statusFailure(415, `the body of the request was in an unknown format - accepted media types include: ${MERGE_TYPES.join(', ')}`)
  if (typeof call.body !== 'object' || call.body === null || Array.isArray(call.body)) return statusFailure(400, 'the patch is not a JSON object')
  return { patch: call.body }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}
