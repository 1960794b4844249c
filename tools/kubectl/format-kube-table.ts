import { arr, at, num, rec, str } from './kube-json.js'

type Column = readonly [header: string, value: (object: unknown, now: number) => string]

const name: Column = ['NAME', (o) => str(at(o, 'metadata', 'name')) ?? '']
const age: Column = ['AGE', (o, now) => ageOf(str(at(o, 'metadata', 'creationTimestamp')), now)]
const ratio = (ready: unknown, total: unknown) => `${String(num(ready) ?? 0)}/${String(num(total) ?? 0)}`

const COLUMNS: Readonly<Record<string, readonly Column[]>> = {
  Pod: [
    name,
    ['READY', (o) => {
      const statuses = arr(at(o, 'status', 'containerStatuses'))
      return `${statuses.filter((s) => at(s, 'ready') === true).length}/${arr(at(o, 'spec', 'containers')).length}`
    }],
    ['STATUS', (o) => {
      if (str(at(o, 'metadata', 'deletionTimestamp')) !== undefined) return 'Terminating'
      const waiting = arr(at(o, 'status', 'containerStatuses')).map((s) => str(at(s, 'state', 'waiting', 'reason'))).find((r) => r !== undefined)
      return waiting ?? str(at(o, 'status', 'reason')) ?? str(at(o, 'status', 'phase')) ?? 'Unknown'
    }],
    ['RESTARTS', (o) => String(arr(at(o, 'status', 'containerStatuses')).reduce<number>((n, s) => n + (num(at(s, 'restartCount')) ?? 0), 0))],
    age,
  ],
  Deployment: [name, ['READY', (o) => ratio(at(o, 'status', 'readyReplicas'), at(o, 'spec', 'replicas'))], ['UP-TO-DATE', (o) => String(num(at(o, 'status', 'updatedReplicas')) ?? 0)], ['AVAILABLE', (o) => String(num(at(o, 'status', 'availableReplicas')) ?? 0)], age],
  ReplicaSet: [name, ['DESIRED', (o) => String(num(at(o, 'spec', 'replicas')) ?? 0)], ['CURRENT', (o) => String(num(at(o, 'status', 'replicas')) ?? 0)], ['READY', (o) => String(num(at(o, 'status', 'readyReplicas')) ?? 0)], age],
  StatefulSet: [name, ['READY', (o) => ratio(at(o, 'status', 'readyReplicas'), at(o, 'spec', 'replicas'))], age],
  DaemonSet: [name, ['DESIRED', (o) => String(num(at(o, 'status', 'desiredNumberScheduled')) ?? 0)], ['CURRENT', (o) => String(num(at(o, 'status', 'currentNumberScheduled')) ?? 0)], ['READY', (o) => String(num(at(o, 'status', 'numberReady')) ?? 0)], age],
  Job: [name, ['COMPLETIONS', (o) => ratio(at(o, 'status', 'succeeded'), at(o, 'spec', 'completions'))], age],
  CronJob: [name, ['SCHEDULE', (o) => str(at(o, 'spec', 'schedule')) ?? ''], ['SUSPEND', (o) => String(at(o, 'spec', 'suspend') === true)], ['ACTIVE', (o) => String(arr(at(o, 'status', 'active')).length)], age],
  Service: [name, ['TYPE', (o) => str(at(o, 'spec', 'type')) ?? ''], ['CLUSTER-IP', (o) => str(at(o, 'spec', 'clusterIP')) ?? ''], ['PORT(S)', (o) => arr(at(o, 'spec', 'ports')).map((p) => `${String(at(p, 'port'))}/${str(at(p, 'protocol')) ?? 'TCP'}`).join(',')], age],
  ConfigMap: [name, ['DATA', (o) => String(Object.keys(rec(at(o, 'data'))).length + Object.keys(rec(at(o, 'binaryData'))).length)], age],
  Secret: [name, ['TYPE', (o) => str(at(o, 'type')) ?? ''], ['DATA', (o) => String(Object.keys(rec(at(o, 'data'))).length)], age],
  Event: [
    ['LAST SEEN', (o, now) => ageOf(str(at(o, 'lastTimestamp')) ?? str(at(o, 'eventTime')), now)],
    ['TYPE', (o) => str(at(o, 'type')) ?? ''],
    ['REASON', (o) => str(at(o, 'reason')) ?? ''],
    ['OBJECT', (o) => `${(str(at(o, 'involvedObject', 'kind')) ?? '').toLowerCase()}/${str(at(o, 'involvedObject', 'name')) ?? ''}`],
    ['MESSAGE', (o) => (str(at(o, 'message')) ?? '').replace(/\s+/g, ' ')],
  ],
  Node: [name, ['STATUS', (o) => (str(at(arr(at(o, 'status', 'conditions')).find((c) => at(c, 'type') === 'Ready'), 'status')) === 'True' ? 'Ready' : 'NotReady')], ['VERSION', (o) => str(at(o, 'status', 'nodeInfo', 'kubeletVersion')) ?? ''], age],
  Namespace: [name, ['STATUS', (o) => str(at(o, 'status', 'phase')) ?? ''], age],
}

/** A kubectl-like table (`kubectl get` columns) for the given objects. */
export function formatKubeTable(kind: string, objects: readonly unknown[], now: number): string {
  if (objects.length === 0) return 'No resources found.'
  const columns = COLUMNS[kind] ?? [name, age]
  const rows = [columns.map(([h]) => h), ...objects.map((o) => columns.map(([, value]) => value(o, now)))]
  const widths = columns.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n')
}

/** `5m`, `3h`, `2d` — like kubectl's AGE column. */
export function ageOf(timestamp: string | undefined, now: number): string {
  if (timestamp === undefined) return '<unknown>'
  const then = Date.parse(timestamp)
  if (Number.isNaN(then)) return '<unknown>'
  const s = Math.max(0, Math.floor((now - then) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172_800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86_400)}d`
}
