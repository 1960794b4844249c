// The real gateway, started as in production, for the load generators in bench/.
// BENCH_POLICY (policy JSON), BENCH_AWS_ENDPOINTS and BENCH_AWS_KEY point it at the emulators;
// without them it serves whoami only and refuses every AWS call.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { startGateway } from '../../src/cli/start-gateway.js'
import { gatewayConfigSchema } from '../../src/config.js'
import { UpstreamError } from '../../src/errors.js'
import { announceReady, answerProfileRequests } from './answer-probes.js'

const WHOAMI_POLICY = { version: 1, grants: [{ id: 'bench', groups: ['bench'], tools: ['whoami'], ttl: '12h' }] }
const keySchema = z.object({ accessKeyId: z.string(), secretAccessKey: z.string() })
const json = (name: string): unknown => {
  const text = process.env[name]
  return text === undefined || text === '' ? undefined : JSON.parse(text)
}

const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-'))
// Policy and audit in separate directories, as deployed: the policy watcher sees its folder's every
// change, and an audit file beside the policy would wake it on every record.
await mkdir(join(dir, 'policies'))
const policy = join(dir, 'policies', 'policy.json')
await writeFile(policy, JSON.stringify(json('BENCH_POLICY') ?? WHOAMI_POLICY))
const key = keySchema.optional().parse(json('BENCH_AWS_KEY'))
const running = await startGateway({
  config: gatewayConfigSchema.parse({
    issuer: process.env.BENCH_ISSUER,
    listen: { host: '127.0.0.1', port: 0 },
    admin: { port: 0 },
    policy: [policy],
    audit: { path: join(dir, 'audit.jsonl'), durability: process.env.BENCH_DURABILITY ?? 'fsync' },
    sessions: { idleTimeoutSeconds: 3600, maxPerSubject: 1000, maxTotal: 1_000_000 },
    awsEndpoints: json('BENCH_AWS_ENDPOINTS') ?? {},
    // BENCH_CONFIG: further config keys for one variant (e.g. unauthenticatedLimit).
    ...z.record(z.string(), z.unknown()).optional().parse(json('BENCH_CONFIG')),
  }),
  awsCredentials: async () => {
    if (key === undefined) throw new UpstreamError('AWS_CREDENTIALS', 'no AWS in the benchmark')
    return key
  },
})
announceReady(running.resource)

// SIGURG: `AUDIT {"commits","records","seconds"}`, the audit's group commits so far (what its
// metrics count), so the load generator can tell how many records each commit carried and how
// long a commit took while a run lasted.
process.on('SIGURG', () => {
  void Promise.all(['airlock_audit_commit_duration_seconds', 'airlock_audit_records_total'].map((name) => running.metrics.registry.getSingleMetric(name)?.get())).then(
    ([duration, records]) => {
      const value = (suffix: string) => duration?.values.find((v) => 'metricName' in v && v.metricName === `airlock_audit_commit_duration_seconds_${suffix}`)?.value ?? 0
      process.stdout.write(`AUDIT ${JSON.stringify({ commits: value('count'), records: records?.values[0]?.value ?? 0, seconds: value('sum') })}\n`)
    },
  )
})

// BENCH_CPU_PROFILE: where SIGHUP-driven CPU profiles go (see answerProfileRequests).
const profiler = answerProfileRequests(process.env.BENCH_CPU_PROFILE || undefined, 'gateway')

process.on('SIGTERM', () => {
  void profiler.flush()
    .then(() => running.close())
    .then(() => rm(dir, { recursive: true, force: true }))
    .then(() => process.exit(0))
})
