// npm run bench:kubectl: kubectl list pods through the gateway vs @kubernetes/client-node called directly
// with a cached EKS token, against the Kubernetes API stand-in.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { createEksTokenSource } from '../src/aws/eks-token.js'
import { createKubeApis } from '../src/aws/kube-client.js'
import { systemClock } from '../src/clock.js'
import { startEksEmulator } from '../src/sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer } from '../src/sandbox/kube-api/kube-api-server.js'
import { createCredentialStore } from '../src/sandbox/sigv4/credential-store.js'
import { createTrail } from '../src/sandbox/trail.js'
import { GATEWAY, GATEWAY_MAPPING } from '../test/sandbox/kube-api/kube-harness.js'
import { startBenchGateway, withGatewayCpu } from './lib/bench-gateway.js'
import { benchSettings } from './lib/bench-settings.js'
import { connectMcp, interleave, sampleCalls, type Call, type LoadResult } from './lib/load.js'
import { printComparison } from './lib/print-comparison.js'
import { printCpuProfile } from './lib/print-cpu-profile.js'

// The SDK's notice about future Node versions is noise in benchmark output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const settings = benchSettings({ levels: '1,16' })
const REGION = 'us-east-1'
const KEY = { accessKeyId: GATEWAY.accessKeyId, secretAccessKey: GATEWAY.secretAccessKey }

const store = createCredentialStore([GATEWAY])
const kube = await startKubeApiServer({ store, clock: systemClock, clusterName: 'demo', region: REGION, mappings: [GATEWAY_MAPPING] })
const eks = await startEksEmulator({ store, trail: createTrail(systemClock), clock: systemClock, clusters: [{ name: 'demo', region: REGION, endpoint: kube.url, caPem: kube.caPem }] })
const gateway = await startBenchGateway({
  policy: {
    version: 1,
    connections: { 'bench-cluster': { kind: 'eks', region: REGION, cluster: 'demo' } },
    grants: [{ id: 'bench-k8s', groups: ['bench'], connections: ['bench-cluster'], tools: ['kubectl'], ttl: '12h', kubectl: { verbs: ['list'], resources: ['pods'], namespaces: ['shop'] } }],
  },
  awsEndpoints: { eks: eks.endpoint },
  awsKey: KEY,
  durability: settings.durability,
  ...(settings.cpuProfileDir === undefined ? {} : { cpuProfileDir: settings.cpuProfileDir }),
})

// The baseline: one token made up front (as the gateway caches it), one client, no gateway.
const { token } = await createEksTokenSource({ credentials: async () => KEY, region: REGION, clock: systemClock }).token('demo')
const apis = createKubeApis({ server: kube.url, caData: Buffer.from(kube.caPem).toString('base64'), token })

const connect = (concurrency: number) => Promise.all(Array.from({ length: concurrency }, async (_, w) => connectMcp(gateway.url, await gateway.bearer(`bench-${w}`, ['bench']))))
const listPods = (mcp: Client): Call => async () => {
  const result = await mcp.callTool({ name: 'kubectl', arguments: { connection: 'bench-cluster', verb: 'list', resource: 'pods', namespace: 'shop' } })
  return result.isError !== true
}
// Warm the gateway (token, cluster description, first-call loading, JIT) before the profile and the measured runs.
const warm = await connect(2)
await sampleCalls(warm.map(listPods), { durationMs: 0, warmupMs: settings.warmupMs })
await Promise.all(warm.map((c) => c.close()))
gateway.startProfile()

const rows = []
for (const concurrency of settings.levels) {
  const clients = await connect(concurrency)
  const direct: Call[] = Array.from({ length: concurrency }, () => async () => (await apis.core.listNamespacedPod({ namespace: 'shop' })).items.length > 0)
  const airlock: Call[] = clients.map(listPods)
  const results = await withGatewayCpu(gateway, 'airlock', () => interleave(concurrency, [['direct', direct], ['airlock', airlock]], settings))
  await Promise.all(clients.map((c) => c.close()))
  const [d, a] = [results.get('direct'), results.get('airlock')]
  if (d === undefined || a === undefined) throw new TypeError('missing run')
  rows.push({ label: 'direct listNamespacedPod', baseline: d, measured: [[`airlock (audit ${settings.durability})`, a]] as [string, LoadResult][] })
}
printComparison(
  `kubectl list pods -n shop through Airlock vs @kubernetes/client-node directly (cached token), ${settings.durationMs} ms per variant\n` +
    `in ${settings.rounds} alternating slices; processes: load generator + EKS emulator + Kubernetes API stand-in, gateway.`,
  rows,
)

await gateway.stop()
await eks.close()
await kube.close()
if (settings.cpuProfileDir !== undefined) await printCpuProfile(settings.cpuProfileDir)
