import { readFile } from 'node:fs/promises'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AwsCredentialIdentityProvider } from '@smithy/types'
import { createApprovalService } from '../approvals/approval-service.js'
import { createWebhookNotifier } from '../approvals/approval-webhooks.js'
import type { AuditTrail } from '../audit/audit-trail.js'
import { defaultRedactOptions, redactArgs } from '../audit/redact-args.js'
import { authFailureBody, bearerChallenge } from '../auth/challenge.js'
import { createJwksCache } from '../auth/jwks-cache.js'
import { protectedResourceMetadata, protectedResourceMetadataLocation } from '../auth/protected-resource-metadata.js'
import { createTokenVerifier } from '../auth/verify-token.js'
import type { AwsTarget } from '../aws/aws-clients.js'
import { systemClock, type Clock } from '../clock.js'
import type { GatewayConfig } from '../config.js'
import { createClientAddress, trustedProxyList } from '../mcp/client-address.js'
import { countRequests } from '../mcp/count-requests.js'
import { createGateway, type Gateway } from '../mcp/create-gateway.js'
import { allToolScopes } from '../policy/check-tool-scopes.js'
import { createUnauthenticatedLimiter } from '../mcp/unauthenticated-limiter.js'
import { createPrometheusMetrics, type PrometheusMetrics } from '../metrics/prometheus-metrics.js'
import { runReadinessChecks, type ReadinessCheck, type ReadinessReport } from '../readiness-check.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { createAwsClients } from './create-aws-clients.js'
import { cancelOnShutdown } from './cancel-on-shutdown.js'
import { createRequestDrain } from './drain-requests.js'
import { openAuditTrail } from './open-audit-trail.js'
import { auditCheck, drainingCheck, issuerKeysCheck, policyCheck, stateCheck } from './gateway-readiness.js'
import { silentLogger, type Logger } from './logger.js'
import { openGatewayState, type OpenedState } from './open-gateway-state.js'
import { createPolicyStore, type PolicyStore } from './policy-store.js'
import { startAdminServer, type AdminServer } from './start-admin-server.js'
import { approvalsWebOptions } from './approvals-web-options.js'

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
  /** Readiness checks besides policy, issuer keys, audit and draining (a state store, another sink). */
  readonly readinessChecks?: readonly ReadinessCheck[]
}

export interface RunningGateway {
  /** Origin the gateway is reachable at, e.g. http://127.0.0.1:8080. */
  readonly origin: string
  /** The MCP endpoint (protected resource, default audience). */
  readonly resource: string
  readonly audience: string
  readonly gateway: Gateway
  readonly policy: PolicyStore
  readonly audit: AuditTrail
  readonly http: HttpServer
  /** This gateway's metrics registry (what the admin listener's `/metrics` serves). */
  readonly metrics: PrometheusMetrics
  /** The admin listener (`/metrics`, `/healthz`, `/readyz`), unless `admin.enabled` is false. */
  readonly admin: AdminServer | undefined
  /** What `/readyz` answers: every named check, not ready once shutdown begins. */
  readiness(): Promise<ReadinessReport>
  /**
   * Graceful stop: new requests are refused (503), in-flight calls may finish for
   * `shutdown.drainSeconds`, the rest are cancelled with a reply and an audit record, and the
   * audit trail is closed (with a final signed checkpoint when a key is configured), then the admin
   * listener. Takes at most the drain plus SHUTDOWN_CANCEL_GRACE_MS.
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

/**
 * Starts the gateway: policy, audit, OIDC relying party, MCP over HTTP, and the admin listener.
 * Throws ConfigError on bad policy; a listener that cannot bind rejects (and nothing stays open).
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger
  // Shutdown: what is in flight, and the signal that cuts hung calls short at the drain deadline.
  const drain = createRequestDrain()
  const drainDeadline = new AbortController()
  const tools = cancelOnShutdown(options.tools ?? registeredTools, drainDeadline.signal, drain.track)
  const metrics = createPrometheusMetrics()
  // Read before anything opens, so a missing secret leaves nothing running.
  const webhookHooks = await Promise.all(
    config.approvals.webhooks.map(async (hook) => ({ group: hook.group, url: hook.url, secret: (await readFile(hook.secretFile, 'utf8')).trim() })),
  )
  const webSecretFile = config.approvals.web?.clientSecretFile
  const webClientSecret = webSecretFile === undefined ? undefined : (await readFile(webSecretFile, 'utf8')).trim()

  const audit = await openAuditTrail({ audit: config.audit, clock, logger, onCommit: metrics.auditCommit })
  let policy: PolicyStore
  try {
    policy = await createPolicyStore({
      paths: config.policy,
      tools: tools.map((t) => ({ name: t.name, connectionKinds: t.connectionKinds })),
      onReload: (reloaded) => {
        metrics.policyLoaded(reloaded.fingerprint)
        logger.info('policy reloaded', { policyFingerprint: reloaded.fingerprint })
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
  metrics.policyLoaded(policy.current().fingerprint)
  let state: OpenedState
  try {
    state = await openGatewayState({ config: config.state, sessions: config.sessions, clock, logger })
  } catch (error) {
    policy.close()
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
    onRefresh: metrics.jwksRefresh,
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

  const limit = config.unauthenticatedLimit
  const limiter = limit.enabled ? createUnauthenticatedLimiter({ clock, burst: limit.burst, perMinute: limit.perMinute, maxAddresses: limit.maxAddresses }) : undefined

  const webhooks = createWebhookNotifier({
    hooks: webhookHooks,
    clock,
    logError: (message, error, fields) => logger.error(message, error, fields),
  })
  const approvals = createApprovalService({ store: state.state.approvals, audit, clock, notify: webhooks.notify })

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
    state: state.state,
    approvals,
    approvalWaitSeconds: config.approvals.waitSeconds,
    limits: config.limits,
    maxSignInAgeSeconds: config.activations.maxSignInAgeSeconds,
    logError: (message, error, fields) => logger.error(message, error, fields),
    logCall: (entry) => logger.info('tool call', { ...entry }),
    metrics,
    clientAddress: createClientAddress(config.trustedProxies.length === 0 ? undefined : trustedProxyList(config.trustedProxies)),
    ...(limiter === undefined ? {} : { limiter }),
    onAddressThrottled: (client) => logger.warn('refusing a client address (429) until it regains allowance: too many requests without valid credentials', { client }),
    // Not ready while the audit cannot take records: every result would be withheld.
    health: () => (audit.health().ok ? { ok: true } : { ok: false, reason: 'audit_unavailable' }),
  })
  http.on('request', countRequests(drain.wrap(gateway.handler), metrics))

  const checks = [
    drainingCheck(() => drain.draining),
    policyCheck(() => policy.current().fingerprint),
    issuerKeysCheck(jwks),
    auditCheck(audit),
    stateCheck(state.state.health),
    ...(options.readinessChecks ?? []),
  ]
  const readiness = () => runReadinessChecks(checks)
  let admin: AdminServer | undefined
  try {
    admin = config.admin.enabled
      ? await startAdminServer(config.admin.host, config.admin.port, {
          scrape: metrics.scrape,
          readiness,
          logError: (message, error) => logger.error(message, error),
          approvals: { service: gateway.approvals, policy: () => policy.current(), authenticate: verifier.verify, clock, logError: (message, error) => logger.error(message, error) },
          ...optionalWeb(
            approvalsWebOptions({
              config,
              clientSecret: webClientSecret,
              audience,
              verify: verifier.verify,
              keys: jwks.getKey,
              allowInsecureLoopback: LOOPBACK.has(issuerHost),
              service: gateway.approvals,
              policy: () => policy.current(),
              clock,
              logError: (message, error) => logger.error(message, error),
            }),
          ),
        })
      : undefined
  } catch (error) {
    policy.close()
    http.close()
    await gateway.close()
    await audit.close()
    throw error
  }

  const sweeper = setInterval(() => {
    limiter?.sweep()
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
    metrics,
    admin,
    readiness,
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
        await state.close().catch((error: unknown) => logger.error('closing the state store failed', error))
        await audit.write({ type: 'gateway.stop', detail: { inflight, cancelled, abandoned } }).catch(() => {})
        // Every record above has landed.
        await audit.close()
        // Last, so that probes see "not ready" and scrapes the final counts for the whole drain.
        await admin?.close()
      })()
      return closing
    },
  }
}

function optionalWeb<T>(web: T | undefined): { approvalsWeb?: T } {
  return web === undefined ? {} : { approvalsWeb: web }
}
