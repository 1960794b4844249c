import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import type { AuditSink } from '../../../src/audit/audit-event.js'
import { openAuditLog, type AuditLog } from '../../../src/audit/audit-log.js'
import { defaultRedactOptions, redactArgs } from '../../../src/audit/redact-args.js'
import { bearerChallenge } from '../../../src/auth/challenge.js'
import { createJwksCache } from '../../../src/auth/jwks-cache.js'
import { createTokenVerifier } from '../../../src/auth/verify-token.js'
import { createAwsClients } from '../../../src/cli/create-aws-clients.js'
import { systemClock, type Clock } from '../../../src/clock.js'
import { createGateway, type Gateway } from '../../../src/mcp/create-gateway.js'
import type { GatewayHealth } from '../../../src/mcp/http-gateway.js'
import type { UnauthenticatedLimiter } from '../../../src/mcp/unauthenticated-limiter.js'
import { buildPolicy } from '../../../src/policy/build-policy.js'
import { createToolDeps } from '../../../tools/create-tool-deps.js'
import type { AnyToolDefinition } from '../../../tools/define-tool.js'
import { registeredTools } from '../../../tools/index.js'
import { startTestIssuer, type TestIssuer } from '../../support/test-issuer.js'

export interface McpGatewayOptions {
  readonly policy: unknown
  /** Wraps the real audit log, e.g. to make some writes fail. */
  readonly audit?: (log: AuditLog) => AuditSink
  readonly health?: () => GatewayHealth
  readonly tools?: readonly AnyToolDefinition[]
  readonly awsCredentials?: AwsCredentialIdentityProvider
  readonly endpoints?: { readonly rdsData?: string; readonly ssm?: string; readonly eks?: string }
  readonly clock?: Clock
  readonly limiter?: UnauthenticatedLimiter
  /** Told each time the gateway asks the token verifier (to prove what it did not verify). */
  readonly onVerify?: () => void
}

export interface McpGateway {
  readonly url: string
  readonly origin: string
  readonly issuer: TestIssuer
  readonly gateway: Gateway
  readonly log: AuditLog
  readonly auditPath: string
  token(sub: string, groups: readonly string[]): Promise<string>
  connect(token: string): Promise<Client>
  /** Closes sessions (flushing sampled counts), then the audit log; the file stays readable until `close`. */
  stop(): Promise<void>
  close(): Promise<void>
}

/**
 * The real gateway (createGateway: sessions, policy, tool caller, HTTP surface) on 127.0.0.1:0
 * with a real issuer, verifier and audit log, for what `startGateway` does not let a test choose:
 * the audit sink the gateway writes through and its health function.
 */
export async function startMcpGateway(options: McpGatewayOptions): Promise<McpGateway> {
  const clock = options.clock ?? systemClock
  const issuer = await startTestIssuer({ clock })
  const dir = await mkdtemp(join(tmpdir(), 'airlock-mcp-'))
  const auditPath = join(dir, 'audit.jsonl')
  const log = await openAuditLog({ path: auditPath, clock, durability: 'write' })
  const tools = options.tools ?? registeredTools
  const built = buildPolicy([{ source: 'test-policy.json', data: options.policy }])
  if (!built.ok) throw new TypeError(`test policy invalid: ${JSON.stringify(built.issues)}`)
  const policy = built.policy

  const http: Server = createServer()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  const url = `${origin}/mcp`
  const jwks = createJwksCache({ issuer: issuer.issuer, clock, allowInsecureLoopback: true })
  const verifier = createTokenVerifier({ issuer: issuer.issuer, audience: url, algorithms: ['RS256'], clockToleranceSeconds: 30, groupsClaim: 'groups', keys: jwks.getKey, clock })
  const gateway = createGateway({
    resourceMetadata: () => ({ resource: url }),
    allowedHosts: [`127.0.0.1:${port}`],
    allowedOrigins: [],
    authenticate: (header) => {
      options.onVerify?.()
      return verifier.verify(header)
    },
    ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
    challenge: (error) => ({ header: bearerChallenge({ resourceMetadataUrl: `${origin}/.well-known/oauth-protected-resource/mcp`, ...(error === undefined ? {} : { error }) }), body: { error: 'invalid_token' } }),
    tools,
    policy: () => policy,
    deps: createToolDeps({
      aws: createAwsClients({ credentials: options.awsCredentials ?? (async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' })), endpoints: options.endpoints ?? {} }),
      clock,
      tools: tools.map((t) => ({ name: t.name, connectionKinds: t.connectionKinds })),
    }),
    audit: options.audit === undefined ? log : options.audit(log),
    clock,
    redactArgs: (args) => redactArgs(args, defaultRedactOptions),
    sessions: { idleTimeoutSeconds: 900, maxPerSubject: 50, maxTotal: 1000 },
    logError: () => {},
    ...(options.health === undefined ? {} : { health: options.health }),
  })
  http.on('request', gateway.handler)
  const clients: Client[] = []
  let stopped: Promise<void> | undefined
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.allSettled(clients.map((c) => c.close()))
      await gateway.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await log.close()
    })())
  return {
    url,
    origin,
    issuer,
    gateway,
    log,
    auditPath,
    token: (sub, groups) => issuer.mint({ sub, groups: [...groups], aud: url }),
    async connect(token) {
      const client = new Client({ name: 'mcp-gateway-test', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
      clients.push(client)
      return client
    },
    stop,
    async close() {
      await stop()
      await issuer.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
