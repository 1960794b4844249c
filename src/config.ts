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
  /** The URL agents use to reach the gateway (behind a load balancer: its public origin). */
  publicUrl: httpUrl.optional(),
  /** Browser origins allowed to call /mcp; requests without Origin are always fine. */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'expected an origin such as "https://app.example.com"')).default([]),
  /** Extra Host header values accepted besides the public URL's host. */
  allowedHosts: z.array(z.string().min(1)).default([]),
  scopesSupported: z.array(z.string().min(1)).default([]),
  /** Policy files or directories. */
  policy: z.array(z.string().min(1)).min(1),
  audit: z
    .strictObject({
      path: z.string().min(1),
      durability: z.enum(['write', 'fsync']).default('fsync'),
      redactKeys: z.array(z.string().min(1)).default([]),
    }),
  sessions: z
    .strictObject({
      idleTimeoutSeconds: z.number().int().min(10).max(86_400).default(600),
      maxPerSubject: z.number().int().min(1).max(1000).default(16),
      maxTotal: z.number().int().min(1).max(1_000_000).default(50_000),
    })
    .default({ idleTimeoutSeconds: 600, maxPerSubject: 16, maxTotal: 50_000 }),
  /** SIGTERM/SIGINT: stop taking requests, let in-flight calls finish, then cancel the rest. */
  shutdown: z
    .strictObject({
      /** How long in-flight calls may still finish; keep it below the pod's terminationGracePeriodSeconds (30) minus ~5 s. */
      drainSeconds: z.number().int().min(0).max(600).default(20),
    })
    .default({ drainSeconds: 20 }),
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
