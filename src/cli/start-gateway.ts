import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import { openAuditLog, type AuditLog } from '../audit/audit-log.js'
import { defaultRedactOptions, redactArgs } from '../audit/redact-args.js'
import { authFailureBody, bearerChallenge } from '../auth/challenge.js'
import { createJwksCache } from '../auth/jwks-cache.js'
import { protectedResourceMetadata, protectedResourceMetadataLocation } from '../auth/protected-resource-metadata.js'
import { createTokenVerifier } from '../auth/verify-token.js'
import type { AwsTarget } from '../aws/aws-clients.js'
import { systemClock, type Clock } from '../clock.js'
import type { GatewayConfig } from '../config.js'
import { createGateway, type Gateway } from '../mcp/create-gateway.js'
import { allToolScopes } from '../policy/check-tool-scopes.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { createAwsClients } from './create-aws-clients.js'
import { cancelOnShutdown } from './cancel-on-shutdown.js'
import { createRequestDrain } from './drain-requests.js'
import { silentLogger, type Logger } from './logger.js'
import { createPolicyStore, type PolicyStore } from './policy-store.js'

export interface StartGatewayOptions {
  readonly config: GatewayConfig
  /** The gateway's own AWS identity: the SDK default chain in production. */
  readonly awsCredentials: AwsCredentialIdentityProvider
  readonly roleCredentials?: (roleArn: string, target: AwsTarget) => AwsCredentialIdentityProvider
  readonly clock?: Clock
  readonly logger?: Logger
  readonly tools?: readonly AnyToolDefinition[]
  /** How often expired and idle sessions are swept. */
  readonly sweepIntervalMs?: number
}

export interface RunningGateway {
  /** Origin the gateway is reachable at, e.g. http://127.0.0.1:8080. */
  readonly origin: string
  /** The MCP endpoint (protected resource, default audience). */
  readonly resource: string
  readonly audience: string
  readonly gateway: Gateway
  readonly policy: PolicyStore
  readonly audit: AuditLog
  readonly http: HttpServer
  /**
   * Graceful stop: new requests are refused (503), in-flight calls may finish for
   * `shutdown.drainSeconds`, the rest are cancelled with a reply and an audit record, and the
   * audit log is closed last. Takes at most the drain plus SHUTDOWN_CANCEL_GRACE_MS.
   */
  close(): Promise<void>
}

/** After the drain deadline, how long cancelled calls get to send their reply and write their record. */
export const SHUTDOWN_CANCEL_GRACE_MS = 3_000

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

async function listen(server: HttpServer, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  return address.port
}

/** Starts the gateway: policy, audit, OIDC relying party, MCP over HTTP. Throws ConfigError on bad policy. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger
  // Shutdown: what is in flight, and the signal that cuts hung calls short at the drain deadline.
  const drain = createRequestDrain()
  const drainDeadline = new AbortController()
  const tools = cancelOnShutdown(options.tools ?? registeredTools, drainDeadline.signal, drain.track)

  const audit = await openAuditLog({ path: config.audit.path, clock, durability: config.audit.durability })
  let policy: PolicyStore
  try {
    policy = await createPolicyStore({
      paths: config.policy,
      tools: tools.map((t) => ({ name: t.name, connectionKinds: t.connectionKinds })),
      onReload: (reloaded) => {
        logger.info('policy reloaded')
        audit.write({ type: 'policy.reload', policyFingerprint: reloaded.fingerprint }).catch((error: unknown) => logger.error('audit write failed', error))
      },
      onError: (lines) => {
        for (const line of lines) logger.error(`policy reload refused, keeping the last good policy: ${line}`)
        audit.write({ type: 'policy.reload_failed', detail: { issues: [...lines] } }).catch((error: unknown) => logger.error('audit write failed', error))
      },
    })
  } catch (error) {
    await audit.close()
    throw error
  }

  const http = createServer()
  http.keepAliveTimeout = 65_000
  const port = await listen(http, config.listen.host, config.listen.port)
  const origin = (config.publicUrl ?? `http://${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${port}`).replace(/\/+$/, '')
  const resource = `${origin}/mcp`
  const audience = config.audience ?? resource
  const metadataLocation = protectedResourceMetadataLocation(resource)

  const issuerHost = new URL(config.issuer).hostname
  const jwks = createJwksCache({
    issuer: config.issuer,
    clock,
    allowInsecureLoopback: LOOPBACK.has(issuerHost),
    onRefreshError: (error) => logger.error('OIDC discovery/JWKS refresh failed', error),
  })
  void jwks.refresh()
  const verifier = createTokenVerifier({
    issuer: config.issuer,
    audience,
    algorithms: config.algorithms,
    clockToleranceSeconds: config.clockToleranceSeconds,
    ...(config.maxTokenAgeSeconds === undefined ? {} : { maxTokenAgeSeconds: config.maxTokenAgeSeconds }),
    groupsClaim: config.groupsClaim,
    profile: {
      tokenTypes: config.tokenTypes,
      maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds,
      allowedClients: config.allowedClients,
      requiredScopes: config.requiredScopes,
      requiredClaims: config.requiredClaims,
    },
    keys: jwks.getKey,
    clock,
  })

  const allowedHosts = [new URL(origin).host, ...config.allowedHosts]
  if (LOOPBACK.has(config.listen.host)) allowedHosts.push(`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`)

  const redactOptions = { ...defaultRedactOptions, redactKeys: [...defaultRedactOptions.redactKeys, ...config.audit.redactKeys] }
  const gateway = createGateway({
    // The scopes every token and the tools need are advertised with the configured ones, and follow policy reloads.
    resourceMetadata: () => ({
      ...protectedResourceMetadata({
        resource,
        authorizationServers: [config.issuer],
        scopesSupported: [...new Set([...config.scopesSupported, ...config.requiredScopes, ...allToolScopes(policy.current())])],
        resourceName: 'Airlock',
      }),
    }),
    allowedHosts,
    allowedOrigins: config.allowedOrigins,
    authenticate: verifier.verify,
    challenge: (error, scope) => ({
      header: bearerChallenge({ resourceMetadataUrl: metadataLocation.url, ...(error === undefined ? {} : { error }), ...(scope === undefined ? {} : { scope }) }),
      body: error === undefined ? { error: 'unauthorized', error_description: 'Bearer token required.' } : { ...authFailureBody(error) },
    }),
    tools,
    policy: () => policy.current(),
    deps: createToolDeps({
      aws: createAwsClients({
        credentials: options.awsCredentials,
        endpoints: {
          ...(config.awsEndpoints.rdsData === undefined ? {} : { rdsData: config.awsEndpoints.rdsData }),
          ...(config.awsEndpoints.ssm === undefined ? {} : { ssm: config.awsEndpoints.ssm }),
          ...(config.awsEndpoints.eks === undefined ? {} : { eks: config.awsEndpoints.eks }),
        },
        ...(options.roleCredentials === undefined ? {} : { roleCredentials: options.roleCredentials }),
      }),
      clock,
      tools: tools.map((t) => ({ name: t.name, connectionKinds: t.connectionKinds })),
    }),
    audit,
    clock,
    redactArgs: (args) => redactArgs(args, redactOptions),
    sessions: config.sessions,
    logError: (message, error) => logger.error(message, error),
    // Not ready while the audit cannot take records: every result would be withheld.
    health: () => (audit.health().ok ? { ok: true } : { ok: false, reason: 'audit_unavailable' }),
  })
  http.on('request', drain.wrap(gateway.handler))
  const sweeper = setInterval(() => {
    gateway.sessions.sweep().catch((error: unknown) => logger.error('session sweep failed', error))
    // Counts of sampled records whose window has ended land even when no new record follows.
    gateway.flushAuditSamples('ended').catch((error: unknown) => logger.error('audit sample flush failed', error))
  }, options.sweepIntervalMs ?? 15_000)
  sweeper.unref()
  await audit.write({ type: 'gateway.start', policyFingerprint: policy.current().fingerprint, detail: { resource, issuer: config.issuer, audience } })

  let closing: Promise<void> | undefined
  return {
    origin,
    resource,
    audience,
    gateway,
    policy,
    audit,
    http,
    close() {
      closing ??= (async () => {
        clearInterval(sweeper)
        policy.close()
        // New connections are refused (the listener closes); requests on open ones get 503.
        drain.begin()
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()))
        const inflight = drain.inflight
        logger.info('shutting down: draining in-flight requests', { inflight, drainSeconds: config.shutdown.drainSeconds })
        const drained = await drain.settled(config.shutdown.drainSeconds * 1000)
        // Past the deadline: what is left is cancelled, and still answered and audited.
        const cancelled = drain.inflight
        drainDeadline.abort()
        await gateway.close()
        await drain.settled(SHUTDOWN_CANCEL_GRACE_MS)
        const abandoned = drain.inflight
        http.closeAllConnections()
        await stopped
        if (!drained) logger.warn('drain deadline passed; in-flight calls were cancelled', { cancelled, abandoned })
        await audit.write({ type: 'gateway.stop', detail: { inflight, cancelled, abandoned } }).catch(() => {})
        // Last: every record above has landed.
        await audit.close()
      })()
      return closing
    },
  }
}
