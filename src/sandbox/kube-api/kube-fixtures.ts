import { paymentsRuns } from '../demo-incident.js'
import type { KubeObject } from './kube-selectors.js'

/** One container's log: lines with the instant they were written. */
export interface KubeLogLine {
  readonly at: number
  readonly text: string
}

export interface KubeFixtures {
  readonly objects: readonly KubeObject[]
  /** Keyed `namespace/pod/container`; `…/previous` holds the last terminated container's log. */
  readonly logs: ReadonlyMap<string, readonly KubeLogLine[]>
}

/** The demo cluster's secret values, exported so tests can prove they never leak. */
export const DEMO_SECRET_VALUES = { username: 'payments', password: 'Pa55-hunter2-Payments-DB' } as const

const MIN = 60_000
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')

/** The demo cluster: `shop` (healthy checkout, crash-looping payments), `monitoring`, `kube-system`. */
export function createDemoFixtures(now: number): KubeFixtures {
  const created = now - 3 * 24 * 60 * MIN
  let uid = 0
  const meta = (name: string, namespace: string | undefined, extra: Record<string, unknown> = {}) => ({
    name,
    ...(namespace === undefined ? {} : { namespace }),
    uid: `0f5c1a7e-${String(++uid).padStart(4, '0')}-4b1d-9e2a-5d6c7b8a9f0e`,
    resourceVersion: String(1000 + uid),
    creationTimestamp: iso(created + uid * MIN),
    ...extra,
  })
  const objects: KubeObject[] = []
  const logs = new Map<string, KubeLogLine[]>()

  for (const ns of ['default', 'kube-system', 'shop', 'monitoring']) {
    objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns, undefined, { labels: { 'kubernetes.io/metadata.name': ns } }), spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } })
  }
  for (const [i, node] of ['ip-10-0-1-23.ec2.internal', 'ip-10-0-2-45.ec2.internal'].entries()) {
    objects.push({
      apiVersion: 'v1', kind: 'Node',
      metadata: meta(node, undefined, { labels: { 'kubernetes.io/hostname': node, 'topology.kubernetes.io/zone': `us-east-1${'ab'[i]}`, 'node.kubernetes.io/instance-type': 'm6i.large' } }),
      spec: { providerID: `aws:///us-east-1${'ab'[i]}/i-0abc1234567${i}def0` },
      status: {
        capacity: { cpu: '2', memory: '7934464Ki', pods: '29' },
        allocatable: { cpu: '1930m', memory: '7244288Ki', pods: '29' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastTransitionTime: iso(created) }],
        nodeInfo: { kubeletVersion: 'v1.30.4-eks-a737599', osImage: 'Amazon Linux 2023', containerRuntimeVersion: 'containerd://1.7.20', architecture: 'amd64' },
        addresses: [{ type: 'InternalIP', address: `10.0.${i + 1}.${23 + 22 * i}` }, { type: 'Hostname', address: node }],
      },
    })
  }

  function workload(ns: string, name: string, opts: { image: string; replicas: number; ready: number; hash: string; podSuffixes: string[]; env?: unknown[]; port: number; lastApplied?: boolean }) {
    const labels = { app: name, 'app.kubernetes.io/part-of': ns }
    const template = {
      metadata: { labels: { ...labels, 'pod-template-hash': opts.hash } },
      spec: { containers: [{ name, image: opts.image, ports: [{ containerPort: opts.port, protocol: 'TCP' }], env: opts.env ?? [], resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } } }] },
    }
    const deployAnnotations: Record<string, string> = { 'deployment.kubernetes.io/revision': '3' }
    if (opts.lastApplied === true) {
      deployAnnotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns }, spec: { replicas: opts.replicas } })
    }
    const deployment = meta(name, ns, { labels, annotations: deployAnnotations, generation: 3 })
    objects.push({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: deployment,
      spec: { replicas: opts.replicas, selector: { matchLabels: labels }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, template: { metadata: { labels }, spec: template.spec } },
      status: {
        observedGeneration: 3, replicas: opts.replicas, updatedReplicas: opts.replicas, readyReplicas: opts.ready, availableReplicas: opts.ready,
        ...(opts.ready < opts.replicas ? { unavailableReplicas: opts.replicas - opts.ready } : {}),
        conditions: [
          { type: 'Available', status: opts.ready >= opts.replicas ? 'True' : 'False', reason: opts.ready >= opts.replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: opts.ready >= opts.replicas ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}-${opts.hash}" has successfully progressed.` },
        ],
      },
    })
    const rsName = `${name}-${opts.hash}`
    objects.push({
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: meta(rsName, ns, { labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deployment.uid, controller: true }] }),
      spec: { replicas: opts.replicas, selector: { matchLabels: template.metadata.labels }, template },
      status: { replicas: opts.replicas, readyReplicas: opts.ready, availableReplicas: opts.ready },
    })
    objects.push({
      apiVersion: 'v1', kind: 'Service', metadata: meta(name, ns, { labels }),
      spec: { type: 'ClusterIP', clusterIP: `172.20.${10 + uid}.${uid * 7}`, ports: [{ name: 'http', port: 80, targetPort: opts.port, protocol: 'TCP' }], selector: labels },
      status: { loadBalancer: {} },
    })
    return opts.podSuffixes.map((suffix, i) => ({ name: `${rsName}-${suffix}`, labels: template.metadata.labels, spec: template.spec, node: i % 2 === 0 ? 'ip-10-0-1-23.ec2.internal' : 'ip-10-0-2-45.ec2.internal', owner: rsName }))
  }

  function runningPod(ns: string, p: ReturnType<typeof workload>[number], container: string, image: string) {
    objects.push({
      apiVersion: 'v1', kind: 'Pod',
      metadata: meta(p.name, ns, { labels: p.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: p.owner, controller: true }] }),
      spec: { ...p.spec, nodeName: p.node, restartPolicy: 'Always', serviceAccountName: 'default' },
      status: {
        phase: 'Running', podIP: `10.0.${uid % 3 + 1}.${100 + uid}`, startTime: iso(created),
        conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }, { type: 'PodScheduled', status: 'True' }],
        containerStatuses: [{ name: container, image, ready: true, started: true, restartCount: 0, state: { running: { startedAt: iso(created + 2 * MIN) } } }],
      },
    })
  }

  // shop: a healthy checkout …
  for (const p of workload('shop', 'checkout', { image: 'public.ecr.aws/demo/checkout:1.14.2', replicas: 2, ready: 2, hash: '7d9f8b6c5d', podSuffixes: ['h4x7q', 'm2p9z'], port: 8080, lastApplied: true })) {
    runningPod('shop', p, 'checkout', 'public.ecr.aws/demo/checkout:1.14.2')
    logs.set(`shop/${p.name}/checkout`, Array.from({ length: 300 }, (_, i) => ({
      at: now - (300 - i) * 20_000,
      text: `${iso(now - (300 - i) * 20_000)} INFO http request method=POST path=/api/checkout status=200 duration_ms=${40 + (i % 17)} request_id=req-${(i * 7919).toString(16)}`,
    })))
  }

  // … and payments, crash-looping because its database password is wrong.
  const [paymentsPod] = workload('shop', 'payments', {
    image: 'public.ecr.aws/demo/payments:2.3.0', replicas: 1, ready: 0, hash: '5c8d7f9b4', podSuffixes: ['x2k9p'], port: 8443,
    env: [
      { name: 'DB_HOST', value: 'payments-db.shop.svc.cluster.local' },
      { name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'payments-db', key: 'username' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'payments-db', key: 'password' } } },
      { name: 'LOG_LEVEL', valueFrom: { configMapKeyRef: { name: 'payments-config', key: 'LOG_LEVEL' } } },
    ],
  })
  if (paymentsPod !== undefined) {
    // The same runs as the incident everywhere else (web-1's 502s, the failed orders).
    const runs = paymentsRuns(now)
    const firstRun = runs[0] ?? now
    const currentRun = runs.at(-1) ?? now
    const previousRun = runs.at(-2) ?? now
    const podMeta = meta(paymentsPod.name, 'shop', { labels: paymentsPod.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: paymentsPod.owner, controller: true }] })
    objects.push({
      apiVersion: 'v1', kind: 'Pod', metadata: podMeta,
      spec: { ...paymentsPod.spec, nodeName: paymentsPod.node, restartPolicy: 'Always', serviceAccountName: 'payments' },
      status: {
        phase: 'Running', podIP: '10.0.2.117', startTime: iso(firstRun - 5_000),
        conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [payments]' }, { type: 'PodScheduled', status: 'True' }],
        containerStatuses: [{
          name: 'payments', image: 'public.ecr.aws/demo/payments:2.3.0', ready: false, started: false, restartCount: runs.length - 1,
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=payments pod=${paymentsPod.name}_shop(${podMeta.uid})` } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(previousRun), finishedAt: iso(previousRun + 4000) } },
        }],
      },
    })
    const crash = (start: number) => [
      'INFO payments-service 2.3.0 starting (go1.22.5)',
      'INFO loaded configuration from /etc/payments/config.yaml',
      // A connection string with its password, as real services log them: the gateway's detectors must catch it.
      'INFO connecting to postgres://payments:Pg-demo-2f9a@payments-db.shop.svc.cluster.local:5432/ledger',
      'ERROR pq: password authentication failed for user "payments"',
      'ERROR database ping failed after 3 attempts; giving up',
      'FATAL could not initialise the ledger store: pq: password authentication failed for user "payments"',
    ].map((text, i) => ({ at: start + i * 700, text: `${iso(start + i * 700)} ${text}` }))
    logs.set(`shop/${paymentsPod.name}/payments`, crash(currentRun))
    logs.set(`shop/${paymentsPod.name}/payments/previous`, crash(previousRun))
    const event = (reason: string, type: 'Normal' | 'Warning', message: string, count: number, component: string) =>
      objects.push({
        apiVersion: 'v1', kind: 'Event',
        metadata: meta(`${paymentsPod.name}.${(0x17a0c0de + uid).toString(16)}`, 'shop'),
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: paymentsPod.name, namespace: 'shop', uid: podMeta.uid, fieldPath: 'spec.containers{payments}' },
        reason, message, type, count, source: { component, host: paymentsPod.node },
        firstTimestamp: iso(firstRun - 5_000), lastTimestamp: iso(now - (type === 'Warning' ? 1 : 3) * MIN), reportingComponent: component,
      })
    event('Pulled', 'Normal', 'Container image "public.ecr.aws/demo/payments:2.3.0" already present on machine', runs.length, 'kubelet')
    event('Created', 'Normal', 'Created container payments', runs.length, 'kubelet')
    event('Started', 'Normal', 'Started container payments', runs.length, 'kubelet')
    event('BackOff', 'Warning', `Back-off restarting failed container payments in pod ${paymentsPod.name}_shop(${podMeta.uid})`, 97, 'kubelet')
  }
  objects.push({
    apiVersion: 'v1', kind: 'Event', metadata: meta('checkout.17a0beef', 'shop'),
    involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', namespace: 'shop' },
    reason: 'ScalingReplicaSet', message: 'Scaled up replica set checkout-7d9f8b6c5d to 2', type: 'Normal', count: 1,
    source: { component: 'deployment-controller' }, firstTimestamp: iso(now - 50 * MIN), lastTimestamp: iso(now - 50 * MIN),
  })
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
  objects.push({
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: meta('payments-db', 'shop', {
      labels: { app: 'payments' },
      // Realistic leak: `kubectl apply` of a Secret keeps its stringData in this annotation.
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'payments-db', namespace: 'shop' }, stringData: DEMO_SECRET_VALUES, type: 'Opaque' }) },
    }),
    data: { username: b64(DEMO_SECRET_VALUES.username), password: b64(DEMO_SECRET_VALUES.password) },
  })
  objects.push({
    apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('payments-config', 'shop', { labels: { app: 'payments' } }),
    data: { LOG_LEVEL: 'info', DB_HOST: 'payments-db.shop.svc.cluster.local', DB_POOL_SIZE: '10' },
  })

  for (const p of workload('monitoring', 'prometheus', { image: 'quay.io/prometheus/prometheus:v2.53.1', replicas: 1, ready: 1, hash: '6b8c9d7f5', podSuffixes: ['q8w3e'], port: 9090 })) {
    runningPod('monitoring', p, 'prometheus', 'quay.io/prometheus/prometheus:v2.53.1')
    logs.set(`monitoring/${p.name}/prometheus`, [{ at: now - 10 * MIN, text: `${iso(now - 10 * MIN)} level=info msg="Server is ready to receive web requests."` }])
  }
  objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('prometheus-config', 'monitoring'), data: { 'prometheus.yml': 'global:\n  scrape_interval: 30s\n' } })
  for (const p of workload('kube-system', 'coredns', { image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.11.1-eksbuild.9', replicas: 2, ready: 2, hash: '54d6f577c6', podSuffixes: ['7kqzt', 'vn4lr'], port: 53 })) {
    runningPod('kube-system', p, 'coredns', '602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:v1.11.1-eksbuild.9')
  }
  objects.push({
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('aws-node', 'kube-system', { labels: { 'k8s-app': 'aws-node' } }),
    spec: { selector: { matchLabels: { 'k8s-app': 'aws-node' } }, template: { metadata: { labels: { 'k8s-app': 'aws-node' } }, spec: { containers: [{ name: 'aws-node', image: '602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:v1.18.3' }] } } },
    status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2 },
  })
  return { objects, logs }
}
