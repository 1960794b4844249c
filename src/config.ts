import { z } from 'zod'
import { JWS_ALGORITHMS } from './jws-algorithms.js'
import {
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  DEFAULT_TOKEN_TYPES,
  SCOPE_TOKEN_PATTERN,
  TOKEN_TYPE_PATTERN,
} from './token-profile-defaults.js'

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
const claimValue = z.union([z.string(), z.number(), z.boolean()])

/** A schema or table name the PostgreSQL audit sink accepts: a plain lower-case identifier. */
export const AUDIT_IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/

const auditIdentifier = z.string().regex(AUDIT_IDENTIFIER, 'expected a lower-case identifier (a-z, 0-9, _), at most 40 characters')

/** Signed checkpoints of the chain head, so that a cut tail is detected (`airlock audit verify`). */
const auditCheckpointSchema = z.strictObject({
  /** PKCS#8 PEM file of an Ed25519 private key, e.g. a mounted Secret. */
  keyFile: z.string().min(1),
  /** How often the head is signed when it moved; also at every clean stop. */
  intervalSeconds: z.number().int().min(1).max(86_400).default(60),
})

const redactKeys = z.array(z.string().min(1)).default([])

const fileAuditSchema = z.strictObject({
  sink: z.literal('file').default('file'),
  path: z.string().min(1),
  durability: z.enum(['write', 'fsync']).default('fsync'),
  redactKeys,
  checkpoint: auditCheckpointSchema.optional(),
})

const postgresAuditSchema = z.strictObject({
  sink: z.literal('postgres'),
  /** postgres://user@host:5432/db?sslmode=verify-full; the password may come from PGPASSWORD instead. */
  url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// or postgresql:// URL'),
  schema: auditIdentifier.default('public'),
  /** Records; checkpoints go to `<table>_checkpoints`. */
  table: auditIdentifier.default('airlock_audit'),
  redactKeys,
  poolSize: z.number().int().min(2).max(64).default(4),
  /** Longest wait for a connection (new or from the pool) before a write fails closed. */
  connectTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /** Longest a statement may run (server side, and client side a little later) before a write fails closed. */
  statementTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  checkpoint: auditCheckpointSchema.optional(),
})

/** Where replicas keep what they decide with besides the policy (activations, rate limits). */
export const stateConfigSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('memory') }),
    z.strictObject({
      kind: z.literal('redis'),
      /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
      url: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }),
      /** Use TLS even with a redis:// URL. */
      tls: z.boolean().default(false),
      /** Prefix of every key: one per deployment sharing a Redis. */
      keyPrefix: z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, 'expected up to 64 characters from A-Z a-z 0-9 : . _ -').default('airlock:'),
      /** A Redis command not answered within this fails (and the call is refused): fail closed, fast. */
      commandTimeoutMs: z.number().int().min(50).max(10_000).default(1_000),
    }),
  ])
  .default({ kind: 'memory' })

/** Calls per sliding minute and calls in flight; absent means unlimited. */
export const callLimitsSchema = z.strictObject({
  callsPerMinute: z.number().int().min(1).max(10_000).optional(),
  concurrentCalls: z.number().int().min(1).max(1_000).optional(),
})

/** The gateway's configuration file (`airlock serve --config <file>`), after env overrides. */
export const gatewayConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  /** The OIDC issuer, compared as an exact string with the token's `iss` and the discovery document. */
  issuer: httpUrl,
  /** Expected `aud`; defaults to the canonical MCP endpoint URL (publicUrl + /mcp). */
  audience: z.string().min(1).optional(),
  /** Dot path to the groups claim (string or array of strings). */
  groupsClaim: z.string().min(1).default('groups'),
  /**
   * Narrows the algorithms the issuer declares (each JWK's `alg`, else the discovery document's
   * list); it never widens them.
   */
  algorithms: z
    .array(z.enum(JWS_ALGORITHMS, { error: `expected one of ${JWS_ALGORITHMS.join(', ')} (HS* and none are never allowed)` }))
    .min(1)
    .default([...JWS_ALGORITHMS]),
  clockToleranceSeconds: z.number().int().min(0).max(120).default(30),
  /** Refuse tokens whose `iat` is older than this. */
  maxTokenAgeSeconds: z.number().int().min(1).optional(),
  /** Accepted JOSE `typ` header values (case-insensitive, `application/` optional); `null`: a token without `typ`. */
  tokenTypes: z
    .array(z.union([z.string().regex(TOKEN_TYPE_PATTERN, 'expected a media type name such as "at+jwt"'), z.null()]))
    .min(1)
    .default([...DEFAULT_TOKEN_TYPES]),
  /** Refuse tokens whose `exp − iat` (without `iat`: `exp − now`) is longer than this. */
  maxTokenLifetimeSeconds: z.number().int().min(60).max(31_536_000).default(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
  /** When not empty: the token's `client_id` / `azp` must be one of these. */
  allowedClients: z.array(z.string().min(1)).default([]),
  /** Scopes every token must carry; a token without them gets 403 insufficient_scope. */
  requiredScopes: z.array(z.string().regex(SCOPE_TOKEN_PATTERN, 'expected one scope token (no spaces, quotes or backslashes)')).default([]),
  /** Claim name → the accepted value, or a list of accepted values (one must match). */
  requiredClaims: z.record(z.string().min(1), z.union([claimValue, z.array(claimValue).min(1)])).default({}),
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
    })
    .default({ host: '127.0.0.1', port: 8080 }),
  /**
   * The admin listener: `/metrics`, `/healthz`, `/readyz`. Keep it off the public network: on
   * loopback by default; in a pod, the pod address (kubelet probes, Prometheus) but not the Service.
   */
  admin: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(9464),
    })
    .default({ enabled: true, host: '127.0.0.1', port: 9464 }),
  /**
   * Peers (addresses or CIDR blocks) whose `X-Forwarded-For` names the client, e.g. the ingress
   * controller's pods. Empty: the socket's peer is the client, and the header is ignored.
   */
  trustedProxies: z
    .array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], { error: 'expected an IP address or CIDR block such as "10.0.0.0/8"' }))
    .default([]),
  /**
   * Per client address: after `burst` requests with absent or refused credentials, further
   * requests get 429 with Retry-After before any token is looked at, until the allowance refills
   * at `perMinute`. Each replica counts on its own.
   */
  unauthenticatedLimit: z
    .strictObject({
      enabled: z.boolean().default(true),
      burst: z.number().int().min(1).max(100_000).default(20),
      perMinute: z.number().min(1).max(600_000).default(60),
      maxAddresses: z.number().int().min(100).max(10_000_000).default(100_000),
    })
    .default({ enabled: true, burst: 20, perMinute: 60, maxAddresses: 100_000 }),
  /** The URL agents use to reach the gateway (behind a load balancer: its public origin). */
  publicUrl: httpUrl.optional(),
  /** Browser origins allowed to call /mcp; requests without Origin are always fine. */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'expected an origin such as "https://app.example.com"')).default([]),
  /** Extra Host header values accepted besides the public URL's host. */
  allowedHosts: z.array(z.string().min(1)).default([]),
  /**
   * Scopes advertised in the protected resource metadata, with `requiredScopes` and every scope the
   * policy's `toolScopes` name; MCP clients ask for exactly these. Empty (the default) with neither
   * of those: clients ask for no scope and get the authorization server's default for the resource.
   * Name here a scope your authorization server defines for Airlock (e.g. `api://airlock/mcp`);
   * `offline_access` is never advertised.
   */
  scopesSupported: z.array(z.string().regex(SCOPE_TOKEN_PATTERN, 'expected one scope token (no spaces, quotes or backslashes)')).default([]),
  /** Policy files or directories. */
  policy: z.array(z.string().min(1)).min(1),
  /** Where audit records go: a local file (one replica) or a PostgreSQL table shared by every replica. */
  audit: z.discriminatedUnion('sink', [fileAuditSchema, postgresAuditSchema], { error: 'audit.sink: expected "file" (the default) or "postgres"' }),
  sessions: z
    .strictObject({
      idleTimeoutSeconds: z.number().int().min(10).max(86_400).default(600),
      maxPerSubject: z.number().int().min(1).max(1000).default(16),
      maxTotal: z.number().int().min(1).max(1_000_000).default(50_000),
      /** A 2025-lane session ends this long after it began, however active (grant time is kept per activation, not here). */
      maxLifetimeSeconds: z.number().int().min(60).max(7 * 86_400).default(43_200),
    })
    .default({ idleTimeoutSeconds: 600, maxPerSubject: 16, maxTotal: 50_000, maxLifetimeSeconds: 43_200 }),
  state: stateConfigSchema,
  /** Per subject, across all their grants (a grant's own `limits` apply on top, per subject and grant). */
  limits: callLimitsSchema.default({}),
  activations: z
    .strictObject({
      /**
       * A new access period under a grant needs a sign-in (`auth_time`, else `iat`) no older than
       * this; ended periods are remembered this long after their end.
       */
      maxSignInAgeSeconds: z.number().int().min(300).max(30 * 86_400).default(86_400),
    })
    .default({ maxSignInAgeSeconds: 86_400 }),
  /** SIGTERM/SIGINT: stop taking requests, let in-flight calls finish, then cancel the rest. */
  shutdown: z
    .strictObject({
      /** How long in-flight calls may still finish; keep it below the pod's terminationGracePeriodSeconds (30) minus ~5 s. */
      drainSeconds: z.number().int().min(0).max(600).default(20),
    })
    .default({ drainSeconds: 20 }),
  /** Human approvals: a webhook per approver group, told of every new request it may decide. */
  approvals: z
    .strictObject({
      /** A call whose client sent a progressToken waits up to this long for its approval, with progress notifications; 0: it answers APPROVAL_PENDING at once. */
      waitSeconds: z.number().int().min(0).max(600).default(0),
      webhooks: z
        .array(
          z.strictObject({
            group: z.string().min(1),
            /** Receives a signed JSON POST (Slack-compatible `text`); retried with backoff, never blocking the request. */
            url: httpUrl,
            /** File holding the HMAC-SHA256 secret (e.g. a mounted Secret); its content is trimmed. */
            secretFile: z.string().min(1),
          }),
        )
        .default([]),
      /**
       * The approvers' web page at the admin listener's `/approvals`: sign-in at `issuer` with
       * authorization code + PKCE as this client. `redirectUrl` is `<admin origin>/approvals/callback`
       * as the reviewer's browser reaches it (https, or http on loopback).
       */
      web: z
        .strictObject({
          clientId: z.string().min(1),
          /** File holding the client secret (a confidential client, client_secret_basic); absent: a public client. */
          clientSecretFile: z.string().min(1).optional(),
          redirectUrl: httpUrl
            .refine((u) => new URL(u).pathname === '/approvals/callback', 'expected the admin listener\'s /approvals/callback')
            .refine((u) => u.startsWith('https:') || ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(u).hostname), 'expected https (http only on loopback)'),
          /** Minutes a sign-in lasts (never past the access token's expiry). */
          sessionMinutes: z.number().int().min(1).max(480).default(15),
          /** Scopes asked for besides `openid` (e.g. your IdP's scope for the gateway). */
          scopes: z.array(z.string().regex(SCOPE_TOKEN_PATTERN)).default([]),
        })
        .optional(),
    })
    .default({ waitSeconds: 0, webhooks: [] }),
  /**
   * Per-service AWS endpoint overrides for the tools' clients; unset in production. STS is not
   * here: the credential chain takes it from AWS_ENDPOINT_URL_STS, like the SDK.
   */
  awsEndpoints: z
    .strictObject({ rdsData: httpUrl.optional(), ssm: httpUrl.optional(), eks: httpUrl.optional() })
    .default({}),
})

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>

/** publicUrl without a trailing slash; defaults to the listen address. */
export function publicOrigin(config: GatewayConfig): string {
  const url = config.publicUrl ?? `http://${config.listen.host}:${config.listen.port}`
  return url.replace(/\/+$/, '')
}

/** The canonical URL of the MCP endpoint: the resource identifier and default audience. */
export function mcpResourceUrl(config: GatewayConfig): string {
  return `${publicOrigin(config)}/mcp`
}
