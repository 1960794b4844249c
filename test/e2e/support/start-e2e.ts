import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { Logger } from '../../../src/cli/logger.js'
import { startGateway, type RunningGateway } from '../../../src/cli/start-gateway.js'
import { createManualClock, type ManualClock } from '../../../src/clock.js'
import { gatewayConfigSchema, type GatewayConfigInput } from '../../../src/config.js'
import { UpstreamError } from '../../../src/errors.js'
import type { PolicyFileInput } from '../../../src/policy/policy-schema.js'
import type { ReadinessCheck } from '../../../src/readiness-check.js'
import type { AnyToolDefinition } from '../../../tools/define-tool.js'
import { startTestIssuer, type TestIssuer, type TestIssuerOptions } from '../../support/test-issuer.js'

export const ALLOWED_ORIGIN = 'http://inspector.localhost:6274'

/** A policy for gateway tests: dba and sre get different tools; nobody else gets anything. */
export const E2E_POLICY: PolicyFileInput = {
  version: 1,
  connections: {},
  grants: [
    { id: 'dba-self', groups: ['dba'], tools: ['whoami', 'list_connections'], ttl: '15m' },
    { id: 'sre-whoami', groups: ['sre'], tools: ['whoami'], ttl: '30m' },
  ],
}

export interface E2E {
  readonly issuer: TestIssuer
  readonly gateway: RunningGateway
  readonly clock: ManualClock
  readonly dir: string
  readonly policyPath: string
  readonly auditPath: string
  /** A token for the gateway's audience, really signed by the test issuer. */
  token(sub: string, groups: readonly string[], claims?: Record<string, unknown>): Promise<string>
  /** An MCP SDK client connected over HTTP with `Authorization: Bearer <token>`; with `sessionId`, continuing that 2025-lane session. */
  connect(token: string, sessionId?: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }>
  /** A v2 SDK client pinned to the 2026-07-28 revision (no initialize, no session). */
  connectModern(token: string): Promise<ModernClient>
  writePolicy(policy: unknown): Promise<void>
  close(): Promise<void>
}

/** Refuses every AWS call: gateway tests must not reach AWS. */
export const noAwsCredentials: AwsCredentialIdentityProvider = async () => {
  throw new UpstreamError('AWS_CREDENTIALS', 'no AWS credentials in gateway tests')
}

export interface E2EOptions {
  readonly policy?: unknown
  readonly config?: Partial<GatewayConfigInput>
  readonly tools?: readonly AnyToolDefinition[]
  readonly awsCredentials?: AwsCredentialIdentityProvider
  /** Where the gateway's manual clock starts (default a fixed instant); emulators that sign or check time need real time. */
  readonly startMs?: number
  /** Start the gateway while the issuer answers 503 (fail-closed start-up). */
  readonly issuerDownAtStart?: boolean
  /** Another E2E's issuer and clock: a second replica (its config must fix `audience` to share tokens). Left running by `close`. */
  readonly replicaOf?: E2E
  readonly logger?: Logger
  readonly readinessChecks?: readonly ReadinessCheck[]
  /** How the test issuer publishes its keys and metadata (e.g. JWKs without `alg`). */
  readonly issuer?: Omit<TestIssuerOptions, 'clock'>
}

/** Starts a real issuer (discovery + JWKS over HTTP) and the real gateway on 127.0.0.1:0. */
export async function startE2E(options: E2EOptions = {}): Promise<E2E> {
  const clock = options.replicaOf?.clock ?? createManualClock(options.startMs ?? Date.parse('2026-11-29T12:00:00Z'))
  const issuer = options.replicaOf?.issuer ?? (await startTestIssuer({ ...options.issuer, clock }))
  if (options.issuerDownAtStart === true) issuer.setDown(true)
  const dir = await mkdtemp(join(tmpdir(), 'airlock-e2e-'))
  const policyPath = join(dir, 'policy.json')
  const auditPath = join(dir, 'audit.jsonl')
  await writeFile(policyPath, JSON.stringify(options.policy ?? E2E_POLICY, null, 2))
  const config = gatewayConfigSchema.parse({
    issuer: issuer.issuer,
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    policy: [policyPath],
    audit: { path: auditPath, durability: 'write' },
    allowedOrigins: [ALLOWED_ORIGIN],
    ...options.config,
  })
  const gateway = await startGateway({
    config,
    clock,
    awsCredentials: options.awsCredentials ?? noAwsCredentials,
    ...(options.tools === undefined ? {} : { tools: options.tools }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.readinessChecks === undefined ? {} : { readinessChecks: options.readinessChecks }),
  })
  const clients: Array<Client | ModernClient> = []
  return {
    issuer,
    gateway,
    clock,
    dir,
    policyPath,
    auditPath,
    token: (sub, groups, claims = {}) => issuer.mint({ sub, groups: [...groups], aud: gateway.audience, ...claims }),
    async connect(token, sessionId) {
      const client = new Client({ name: 'airlock-e2e', version: '1.0.0' })
      const transport = new StreamableHTTPClientTransport(new URL(gateway.resource), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
        ...(sessionId === undefined ? {} : { sessionId }),
      })
      await client.connect(transport)
      clients.push(client)
      return { client, transport }
    },
    async connectModern(token) {
      const client = new ModernClient({ name: 'airlock-e2e-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
      await client.connect(new ModernTransport(new URL(gateway.resource), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
      clients.push(client)
      return client
    },
    writePolicy: (policy) => writeFile(policyPath, JSON.stringify(policy, null, 2)),
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()))
      await gateway.close()
      if (options.replicaOf === undefined) await issuer.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
