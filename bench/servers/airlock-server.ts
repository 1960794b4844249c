// The real gateway, started as in production, for the load generator in bench/run.ts.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGateway } from '../../src/cli/start-gateway.js'
import { gatewayConfigSchema } from '../../src/config.js'
import { UpstreamError } from '../../src/errors.js'

const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-'))
const policy = join(dir, 'policy.json')
await writeFile(policy, JSON.stringify({ version: 1, grants: [{ id: 'bench', groups: ['bench'], tools: ['whoami'], ttl: '12h' }] }))
const running = await startGateway({
  config: gatewayConfigSchema.parse({
    issuer: process.env.BENCH_ISSUER,
    listen: { host: '127.0.0.1', port: 0 },
    policy: [policy],
    audit: { path: join(dir, 'audit.jsonl'), durability: process.env.BENCH_DURABILITY ?? 'fsync' },
    sessions: { idleTimeoutSeconds: 3600, maxPerSubject: 1000, maxTotal: 1_000_000 },
  }),
  awsCredentials: async () => {
    throw new UpstreamError('AWS_CREDENTIALS', 'no AWS in the benchmark')
  },
})
process.stdout.write(`READY ${running.resource}\n`)

// The load generator asks for a collection before reading RSS, so garbage does not count as sessions.
process.on('SIGUSR2', () => {
  globalThis.gc?.()
  process.stdout.write(`GC ${JSON.stringify(process.memoryUsage())}\n`)
})
process.on('SIGTERM', () => {
  void running.close().then(() => process.exit(0))
})
