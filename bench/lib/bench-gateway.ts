import { fileURLToPath } from 'node:url'
import { systemClock } from '../../src/clock.js'
import { startTestIssuer, type TestIssuer } from '../../test/support/test-issuer.js'
import type { LoadResult } from './load.js'
import { spawnServer, type ServerProcess } from './spawn-server.js'

export interface BenchGateway {
  /** The MCP endpoint (and token audience). */
  readonly url: string
  readonly server: ServerProcess
  /** `Authorization` header with a real token from the bench issuer (minted once per subject). */
  bearer(subject: string, groups: readonly string[]): Promise<Record<string, string>>
  /** Starts the gateway's CPU profile, if a profile directory was given; it is written on stop. */
  startProfile(): void
  stop(): Promise<void>
}

export interface BenchGatewayOptions {
  readonly policy: unknown
  readonly awsEndpoints: Record<string, string>
  readonly awsKey: { readonly accessKeyId: string; readonly secretAccessKey: string }
  /** Audit durability; the production default is fsync. */
  readonly durability?: 'fsync' | 'write'
  /** Where the gateway writes its CPU profile (see {@link BenchGateway.startProfile}) when it stops. */
  readonly cpuProfileDir?: string
}

const SCRIPT = fileURLToPath(new URL('../servers/airlock-server.ts', import.meta.url))

/** Starts a test OIDC issuer and the real gateway in its own process, wired to the emulators. */
export async function startBenchGateway(options: BenchGatewayOptions): Promise<BenchGateway> {
  const issuer: TestIssuer = await startTestIssuer()
  const server = await spawnServer(
    SCRIPT,
    {
      BENCH_ISSUER: issuer.issuer,
      BENCH_DURABILITY: options.durability ?? 'fsync',
      BENCH_POLICY: JSON.stringify(options.policy),
      BENCH_AWS_ENDPOINTS: JSON.stringify(options.awsEndpoints),
      BENCH_AWS_KEY: JSON.stringify(options.awsKey),
      BENCH_CPU_PROFILE: options.cpuProfileDir ?? '',
    },
  )
  const tokens = new Map<string, string>()
  return {
    url: server.url,
    server,
    async bearer(subject, groups) {
      let token = tokens.get(subject)
      if (token === undefined) {
        const now = Math.floor(systemClock.now() / 1000)
        token = await issuer.mint({ sub: subject, groups: [...groups], aud: server.url, iat: now, exp: now + 6 * 3600 })
        tokens.set(subject, token)
      }
      return { authorization: `Bearer ${token}` }
    },
    startProfile() {
      if (options.cpuProfileDir !== undefined) server.child.kill('SIGHUP')
    },
    async stop() {
      await server.stop()
      await issuer.stop()
    },
  }
}

/**
 * Runs `measure` and adds the gateway process's CPU time over it, shared out per call of
 * `variant` (the gateway is idle while the direct variants run), to that variant's cpuPerCallMs.
 */
export async function withGatewayCpu(gateway: BenchGateway, variant: string, measure: () => Promise<Map<string, LoadResult>>): Promise<Map<string, LoadResult>> {
  const before = await gateway.server.cpuMs()
  const results = await measure()
  const used = (await gateway.server.cpuMs()) - before
  const result = results.get(variant)
  if (result !== undefined) results.set(variant, { ...result, cpuPerCallMs: result.cpuPerCallMs + used / result.totalCalls })
  return results
}
