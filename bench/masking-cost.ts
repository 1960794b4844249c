// npx tsx bench/masking-cost.ts: in-process cost of the output detectors (redactToolOutput, every
// detector on) for two typical large results: a 200-row order query and a 50-pod kubectl list.
import { performance } from 'node:perf_hooks'
import { redactToolOutput } from '../src/guard/masking/redact-tool-output.js'
import { ALL_OUTPUT_DETECTORS } from '../src/policy/output-detectors.js'
import { formatKubeTable } from '../tools/kubectl/format-kube-table.js'
import { summarizeObject } from '../tools/kubectl/summarize-object.js'
import { formatResultTable } from '../tools/sql-query/format-result-table.js'

const NOW = Date.parse('2026-12-01T12:00:00Z')
const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Niklaus']
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Wirth']
const STATUS = ['pending', 'paid', 'shipped', 'delivered', 'refunded']

/** 200 orders as sql_query returns them: id, customer, contact (an email on every third row), amount, time, status. */
function orderResult(): { text: string; structured: Record<string, unknown> } {
  const columns = [
    { name: 'order_id', type: 'int8' },
    { name: 'customer', type: 'text' },
    { name: 'contact', type: 'text' },
    { name: 'amount', type: 'numeric' },
    { name: 'created_at', type: 'timestamptz' },
    { name: 'status', type: 'text' },
  ]
  const rows = Array.from({ length: 200 }, (_, i) => {
    const first = FIRST[i % FIRST.length] ?? ''
    const last = LAST[(i * 7) % LAST.length] ?? ''
    const contact = i % 3 === 0 ? `${first.toLowerCase()}.${last.toLowerCase()}@example.com` : `+44 20 7946 ${String(1000 + i).slice(-4)}`
    const created = new Date(NOW - i * 3_600_123).toISOString()
    return [100_000 + i, `${first} ${last}`, contact, ((i * 7919) % 100_000 / 100).toFixed(2), created, STATUS[i % STATUS.length] ?? '']
  })
  return { text: formatResultTable(columns, rows, false, 500), structured: { columns, rows, rowCount: rows.length, truncated: false } }
}

/** 50 pods of a few deployments, as the kube API returns them, then as the kubectl tool shapes its result. */
function podList(): { text: string; structured: Record<string, unknown> } {
  const apps = ['checkout', 'payments', 'catalog', 'cart', 'search']
  const pods = Array.from({ length: 50 }, (_, i) => {
    const app = apps[i % apps.length] ?? 'app'
    const name = `${app}-7d9f8b6c5d-${(i * 2_654_435_761 >>> 0).toString(36).slice(0, 5)}`
    const created = new Date(NOW - (i + 1) * 86_400_000 / 7).toISOString()
    const image = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/${app}:1.${i % 20}.${i % 7}`
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, namespace: 'shop', uid: `5f1c${i.toString(16).padStart(4, '0')}-9a2b-4c3d-8e4f-${(1e11 + i * 7_777).toString(16)}`, creationTimestamp: created, labels: { app, 'pod-template-hash': '7d9f8b6c5d', tier: 'backend' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-7d9f8b6c5d`, controller: true }] },
      spec: {
        nodeName: `ip-10-0-${i % 3}-${20 + i}.eu-west-1.compute.internal`, restartPolicy: 'Always', serviceAccountName: app,
        containers: [{ name: app, image, ports: [{ containerPort: 8080, protocol: 'TCP' }], env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'DB_HOST', value: `${app}-db.shop.svc.cluster.local` }], resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } } }],
      },
      status: {
        phase: 'Running', podIP: `10.0.${i % 3}.${100 + i}`, hostIP: `10.0.${i % 3}.${20 + i}`, startTime: created,
        conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }, { type: 'PodScheduled', status: 'True' }],
        containerStatuses: [{ name: app, image, ready: true, started: true, restartCount: i % 4, state: { running: { startedAt: created } } }],
      },
    }
  })
  const items = pods.map((pod) => summarizeObject('Pod', pod, { revealSecretValues: false }))
  return { text: formatKubeTable('Pod', pods, NOW), structured: { verb: 'list', resource: 'pods', kind: 'Pod', namespace: 'shop', count: pods.length, truncated: false, filteredToGrant: false, items } }
}

/**
 * µs per call: 300 warm-up calls, then 5 batches of `calls`, the median batch. Both the process's CPU
 * time (steadier on a shared machine: time spent descheduled does not count) and wall time.
 */
function microsPerCall(fn: () => unknown, calls = 300): { cpu: number; wall: number } {
  for (let i = 0; i < 300; i++) fn()
  const cpu: number[] = []
  const wall: number[] = []
  for (let b = 0; b < 5; b++) {
    const start = performance.now()
    const used = process.cpuUsage()
    for (let i = 0; i < calls; i++) fn()
    const { user, system } = process.cpuUsage(used)
    cpu.push((user + system) / calls)
    wall.push(((performance.now() - start) * 1000) / calls)
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[2] ?? Number.NaN
  return { cpu: median(cpu), wall: median(wall) }
}

const cases = { 'sql_query 200x6 orders': orderResult(), 'kubectl list 50 pods': podList() }
for (const [label, output] of Object.entries(cases)) {
  const report = redactToolOutput(output, ALL_OUTPUT_DETECTORS).report
  const parts = {
    'text+structured': () => redactToolOutput(output, ALL_OUTPUT_DETECTORS),
    'text only': () => redactToolOutput({ text: output.text }, ALL_OUTPUT_DETECTORS),
    'structured only': () => redactToolOutput({ text: '', structured: output.structured }, ALL_OUTPUT_DETECTORS),
  }
  console.log(`${label}: text ${output.text.length} chars; redacted ${report.redactedStrings} strings by ${report.detectors.join(',') || 'nothing'}`)
  for (const [part, fn] of Object.entries(parts)) {
    const { cpu, wall } = microsPerCall(fn)
    console.log(`  ${part.padEnd(16)} ${cpu.toFixed(1).padStart(8)} µs CPU/call (wall ${wall.toFixed(1)})`)
  }
}
