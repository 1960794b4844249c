import { arr, at, compact, isRecord, num, rec, str, type Json } from './kube-json.js'

export interface SummaryOptions {
  /** From the grant: Secret values are shown only when this is true. */
  readonly revealSecretValues: boolean
}

/** Annotations dropped everywhere: `kubectl apply` stores the whole applied object there, secrets included. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration'])
const MAX_CONFIG_VALUE = 4096

/** The parts of an object a person reads; Secret values and env secret references become `<secret ns/name/key>`. */
export function summarizeObject(kind: string, object: unknown, options: SummaryOptions): Json {
  const metadata = metadataOf(object)
  const namespace = str(at(object, 'metadata', 'namespace')) ?? ''
  switch (kind) {
    case 'Pod':
      return compact({ ...metadata, ...podSummary(object, namespace) })
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet':
    case 'DaemonSet':
      return compact({ ...metadata, ...workloadSummary(object, namespace) })
    case 'Job':
    case 'CronJob':
      return compact({
        ...metadata,
        schedule: str(at(object, 'spec', 'schedule')),
        suspend: at(object, 'spec', 'suspend'),
        completions: num(at(object, 'spec', 'completions')),
        containers: containersOf(at(object, 'spec', 'template', 'spec') ?? at(object, 'spec', 'jobTemplate', 'spec', 'template', 'spec'), namespace),
        status: compactStatus(at(object, 'status'), ['active', 'succeeded', 'failed', 'startTime', 'completionTime', 'lastScheduleTime']),
      })
    case 'Service':
      return compact({
        ...metadata,
        type: str(at(object, 'spec', 'type')),
        clusterIP: str(at(object, 'spec', 'clusterIP')),
        ports: arr(at(object, 'spec', 'ports')).map((p) => `${String(at(p, 'port'))}${at(p, 'targetPort') === undefined ? '' : `:${String(at(p, 'targetPort'))}`}/${str(at(p, 'protocol')) ?? 'TCP'}`),
        selector: at(object, 'spec', 'selector'),
      })
    case 'ConfigMap': {
      const data = Object.fromEntries(Object.entries(rec(at(object, 'data'))).map(([k, v]) => {
        const text = str(v) ?? ''
        return [k, text.length > MAX_CONFIG_VALUE ? `${text.slice(0, MAX_CONFIG_VALUE)}… (${text.length} characters)` : text]
      }))
      return compact({ ...metadata, data, binaryDataKeys: Object.keys(rec(at(object, 'binaryData'))) })
    }
    case 'Secret':
      return compact({ ...metadata, type: str(at(object, 'type')), data: secretData(object, namespace, options) })
    case 'Event':
      return compact({ ...metadata, ...eventSummary(object) })
    case 'Node':
      return compact({
        ...metadata,
        ready: conditionStatus(object, 'Ready'),
        unschedulable: at(object, 'spec', 'unschedulable'),
        kubeletVersion: str(at(object, 'status', 'nodeInfo', 'kubeletVersion')),
        osImage: str(at(object, 'status', 'nodeInfo', 'osImage')),
        internalIP: str(at(arr(at(object, 'status', 'addresses')).find((a) => at(a, 'type') === 'InternalIP'), 'address')),
        capacity: at(object, 'status', 'capacity'),
        allocatable: at(object, 'status', 'allocatable'),
        conditions: conditionsOf(object).filter((c) => c['type'] === 'Ready' || c['status'] === 'True'),
      })
    case 'Namespace':
      return compact({ ...metadata, phase: str(at(object, 'status', 'phase')) })
    default:
      return compact(metadata)
  }
}

export function eventSummary(event: unknown): Json {
  return compact({
    type: str(at(event, 'type')),
    reason: str(at(event, 'reason')),
    object: `${str(at(event, 'involvedObject', 'kind')) ?? ''}/${str(at(event, 'involvedObject', 'name')) ?? ''}`,
    message: str(at(event, 'message')),
    count: num(at(event, 'count')),
    firstTimestamp: str(at(event, 'firstTimestamp')),
    lastTimestamp: str(at(event, 'lastTimestamp')) ?? str(at(event, 'eventTime')),
    source: str(at(event, 'source', 'component')) ?? str(at(event, 'reportingComponent')),
  })
}

function metadataOf(object: unknown): Json {
  const annotations = Object.fromEntries(Object.entries(rec(at(object, 'metadata', 'annotations'))).filter(([k]) => !DROPPED_ANNOTATIONS.has(k)))
  return compact({
    name: str(at(object, 'metadata', 'name')),
    namespace: str(at(object, 'metadata', 'namespace')),
    labels: rec(at(object, 'metadata', 'labels')),
    annotations,
    creationTimestamp: str(at(object, 'metadata', 'creationTimestamp')),
    deletionTimestamp: str(at(object, 'metadata', 'deletionTimestamp')),
    owners: arr(at(object, 'metadata', 'ownerReferences')).map((o) => `${str(at(o, 'kind')) ?? ''}/${str(at(o, 'name')) ?? ''}`),
  })
}

function podSummary(pod: unknown, namespace: string): Json {
  const statuses = arr(at(pod, 'status', 'containerStatuses'))
  return {
    phase: str(at(pod, 'status', 'phase')),
    reason: str(at(pod, 'status', 'reason')),
    node: str(at(pod, 'spec', 'nodeName')),
    podIP: str(at(pod, 'status', 'podIP')),
    serviceAccount: str(at(pod, 'spec', 'serviceAccountName')),
    conditions: conditionsOf(pod),
    containers: containersOf(at(pod, 'spec'), namespace).map((c) => {
      const status = statuses.find((s) => at(s, 'name') === c['name'])
      return compact({
        ...c,
        ready: at(status, 'ready'),
        restartCount: num(at(status, 'restartCount')),
        state: stateOf(at(status, 'state')),
        lastState: stateOf(at(status, 'lastState')),
      })
    }),
  }
}

function workloadSummary(object: unknown, namespace: string): Json {
  const template = at(object, 'spec', 'template')
  return {
    replicas: num(at(object, 'spec', 'replicas')),
    selector: at(object, 'spec', 'selector', 'matchLabels'),
    strategy: str(at(object, 'spec', 'strategy', 'type')) ?? str(at(object, 'spec', 'updateStrategy', 'type')),
    restartedAt: str(at(template, 'metadata', 'annotations', 'kubectl.kubernetes.io/restartedAt')),
    containers: containersOf(at(template, 'spec'), namespace),
    status: compactStatus(at(object, 'status'), [
      'replicas', 'readyReplicas', 'updatedReplicas', 'availableReplicas', 'unavailableReplicas', 'currentReplicas',
      'desiredNumberScheduled', 'currentNumberScheduled', 'numberReady', 'numberAvailable', 'observedGeneration',
    ]),
    conditions: conditionsOf(object),
  }
}

function containersOf(podSpec: unknown, namespace: string): Json[] {
  return arr(at(podSpec, 'containers')).map((c) => compact({
    name: str(at(c, 'name')),
    image: str(at(c, 'image')),
    ports: arr(at(c, 'ports')).map((p) => `${String(at(p, 'containerPort'))}/${str(at(p, 'protocol')) ?? 'TCP'}`),
    env: arr(at(c, 'env')).map((e) => envVar(e, namespace)),
    envFrom: arr(at(c, 'envFrom')).map((e) => {
      const secret = str(at(e, 'secretRef', 'name'))
      const configMap = str(at(e, 'configMapRef', 'name'))
      return secret !== undefined ? `<secret ${namespace}/${secret}>` : `<configmap ${namespace}/${configMap ?? ''}>`
    }),
    resources: compact({ requests: at(c, 'resources', 'requests'), limits: at(c, 'resources', 'limits') }),
  }))
}

/** Plain values stay; anything taken from elsewhere is shown as where it comes from. */
function envVar(env: unknown, namespace: string): Json {
  const name = str(at(env, 'name')) ?? ''
  const from = at(env, 'valueFrom')
  if (!isRecord(from)) return { name, value: str(at(env, 'value')) ?? '' }
  const secret = at(from, 'secretKeyRef')
  if (isRecord(secret)) return { name, from: `<secret ${str(secret['name']) ?? ''}/${str(secret['key']) ?? ''}>` }
  const configMap = at(from, 'configMapKeyRef')
  if (isRecord(configMap)) return { name, from: `<configmap ${str(configMap['name']) ?? ''}/${str(configMap['key']) ?? ''}>` }
  const field = str(at(from, 'fieldRef', 'fieldPath'))
  if (field !== undefined) return { name, from: `<field ${field}>` }
  const resource = str(at(from, 'resourceFieldRef', 'resource'))
  return { name, from: `<resource ${resource ?? 'unknown'}>` }
}

function secretData(secret: unknown, namespace: string, options: SummaryOptions): Json {
  const name = str(at(secret, 'metadata', 'name')) ?? ''
  const out: Json = {}
  for (const [key, value] of Object.entries(rec(at(secret, 'data')))) {
    out[key] = options.revealSecretValues ? Buffer.from(str(value) ?? '', 'base64').toString('utf8') : `<secret ${namespace}/${name}/${key}>`
  }
  return out
}

function stateOf(state: unknown): string | undefined {
  const waiting = at(state, 'waiting')
  if (isRecord(waiting)) return `waiting: ${str(waiting['reason']) ?? ''}${str(waiting['message']) === undefined ? '' : ` (${str(waiting['message']) ?? ''})`}`
  const running = at(state, 'running')
  if (isRecord(running)) return `running since ${str(running['startedAt']) ?? '?'}`
  const terminated = at(state, 'terminated')
  if (isRecord(terminated)) {
    return `terminated: ${str(terminated['reason']) ?? ''} (exit ${String(num(terminated['exitCode']) ?? '?')}) at ${str(terminated['finishedAt']) ?? '?'}`
  }
  return undefined
}

function conditionsOf(object: unknown): Json[] {
  return arr(at(object, 'status', 'conditions')).map((c) => compact({
    type: str(at(c, 'type')), status: str(at(c, 'status')), reason: str(at(c, 'reason')), message: str(at(c, 'message')),
  }))
}

function conditionStatus(object: unknown, type: string): string | undefined {
  return str(at(arr(at(object, 'status', 'conditions')).find((c) => at(c, 'type') === type), 'status'))
}

function compactStatus(status: unknown, keys: readonly string[]): Json {
  return compact(Object.fromEntries(keys.map((k) => [k, at(status, k)])))
}
