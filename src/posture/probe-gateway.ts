import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import type { JWK } from 'jose'
import { z } from 'zod'
import type { Clock } from '../clock.js'
import { describeFetchFailure } from './describe-fetch-failure.js'
import { tryFetchJson } from './try-fetch-json.js'
import { forgeProbeTokens } from './forge-probe-tokens.js'
import { forgeProfileProbes } from './forge-profile-probes.js'
import { probeTokenProfile } from './probe-token-profile.js'
import { fail, pass, type PostureCheck } from './posture-check.js'

export interface GatewayProbeOptions {
  /** The MCP endpoint, e.g. https://airlock.example.com/mcp */
  readonly mcpUrl: string
  readonly clock: Clock
  /** A valid access token: the MCP handshake and tools/list must work with it. */
  readonly token?: string
  /** Tokens that must be refused. */
  readonly expiredToken?: string
  readonly wrongAudienceToken?: string
  /**
   * A private JWK (with `kid`) that the issuer publishes: with `token`, the token-profile probes
   * are signed so the gateway trusts them, and lifetime, client and claim pinning are probed too.
   */
  readonly signingKey?: JWK
  readonly fetch?: typeof fetch
  /** Per-request timeout; default 10 s. */
  readonly timeoutMs?: number
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'airlock-verify', version: '1' } },
})

const resourceMetadataSchema = z.looseObject({ resource: z.string(), authorization_servers: z.array(z.string()).optional() })

/** `resource_metadata="…"` from a `WWW-Authenticate: Bearer …` challenge (RFC 9728 §5.1). */
export function challengeResourceMetadata(header: string | null): { bearer: boolean; resourceMetadata: string | undefined } {
  if (header === null) return { bearer: false, resourceMetadata: undefined }
  const bearer = /^\s*Bearer(\s|$)/i.test(header)
  const match = /resource_metadata="([^"]*)"/i.exec(header)
  return { bearer, resourceMetadata: match?.[1] }
}

/**
 * Live probes of a running gateway: the 401 challenge and its RFC 9728 metadata, refusal of
 * garbage, `alg: none`, HS256-with-the-public-key and unknown-key tokens, the token profile
 * (wrong `typ`, RSA algorithm substitution; with a signing key, lifetime, client and claim
 * pinning), refusal of a foreign Origin, and (with tokens given) a real MCP handshake plus refusal
 * of expired and wrong-audience tokens. Each probe is one check; never throws.
 * https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization
 */
export async function probeGateway(options: GatewayProbeOptions): Promise<PostureCheck[]> {
  const doFetch = options.fetch ?? fetch
  const timeout = options.timeoutMs ?? 10_000
  const checks: PostureCheck[] = []
  const mcpUrl = new URL(options.mcpUrl).href

  const post = async (headers: Record<string, string>): Promise<Response | string> => {
    try {
      return await doFetch(mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: INITIALIZE,
        signal: AbortSignal.timeout(timeout),
      })
    } catch (error) {
      return describeFetchFailure(error, mcpUrl, timeout)
    }
  }

  // 1. No token: 401 with a Bearer challenge pointing at reachable protected-resource metadata.
  let authorizationServer: string | undefined
  const anonymous = await post({})
  if (typeof anonymous === 'string') {
    checks.push(fail('gateway.reachable', `POST ${mcpUrl} (MCP initialize, no token): ${anonymous}`))
    return checks
  }
  await anonymous.body?.cancel()
  const challenge = challengeResourceMetadata(anonymous.headers.get('www-authenticate'))
  if (anonymous.status !== 401) checks.push(fail('gateway.no-token', `no token: expected 401, got ${anonymous.status}`))
  else if (!challenge.bearer) checks.push(fail('gateway.no-token', 'no token: 401 without a WWW-Authenticate: Bearer challenge'))
  else checks.push(pass('gateway.no-token', 'no token: 401 with a Bearer challenge'))

  if (challenge.resourceMetadata === undefined) {
    checks.push(fail('gateway.resource-metadata', 'the challenge has no resource_metadata (RFC 9728): clients cannot discover the authorization server'))
  } else {
    const metadata = await tryFetchJson(doFetch, challenge.resourceMetadata, timeout)
    const parsed = metadata === undefined ? undefined : resourceMetadataSchema.safeParse(metadata)
    if (parsed === undefined || !parsed.success) {
      checks.push(fail('gateway.resource-metadata', 'resource_metadata is not a reachable protected-resource metadata document', challenge.resourceMetadata))
    } else if (normalized(parsed.data.resource) !== mcpUrl) {
      checks.push(fail('gateway.resource-metadata', `metadata "resource" is ${parsed.data.resource}, not the MCP URL ${mcpUrl}`, challenge.resourceMetadata))
    } else if ((parsed.data.authorization_servers ?? []).length === 0) {
      checks.push(fail('gateway.resource-metadata', 'metadata names no authorization_servers', challenge.resourceMetadata))
    } else {
      authorizationServer = parsed.data.authorization_servers?.[0]
      checks.push(pass('gateway.resource-metadata', 'protected-resource metadata is reachable and names this MCP URL', challenge.resourceMetadata))
    }
  }

  // 2. Forged and malformed tokens: every one must be refused with 401.
  const forged = await forgeProbeTokens({ mcpUrl, authorizationServer, clock: options.clock, fetch: doFetch, timeoutMs: timeout })
  const refusals: Array<readonly [id: string, label: string, token: string]> = [
    ['gateway.garbage-token', 'garbage token', 'not-a-jwt'],
    ['gateway.alg-none', 'unsigned alg:none token', forged.algNone],
    ['gateway.hs256-public-key', `HS256 token keyed with the issuer's public key${forged.publicKeyFound ? '' : ' (issuer keys not reachable; a fresh key was used)'}`, forged.hs256WithPublicKey],
    ['gateway.unknown-key', 'token signed by an unknown key', forged.unknownKey],
    ...(options.expiredToken === undefined ? [] : [['gateway.expired-token', 'expired token', options.expiredToken] as const]),
    ...(options.wrongAudienceToken === undefined ? [] : [['gateway.wrong-audience', 'token for another audience', options.wrongAudienceToken] as const]),
  ]
  for (const [id, label, token] of refusals) {
    const res = await post({ authorization: `Bearer ${token}` })
    if (typeof res === 'string') {
      checks.push(fail(id, `${label}: request failed (${res})`))
      continue
    }
    await res.body?.cancel()
    checks.push(res.status === 401 ? pass(id, `${label}: refused with 401`) : fail(id, `${label}: expected 401, got ${res.status}`))
  }

  // The token profile: each probe is refused for its own class, read from the challenge.
  try {
    const profile = await forgeProfileProbes({
      claims: forged.claims,
      issuerKeys: forged.issuerKeys,
      ...(forged.declaredAlgorithms === undefined ? {} : { declaredAlgorithms: forged.declaredAlgorithms }),
      nowSeconds: Math.floor(options.clock.now() / 1000),
      ...(options.signingKey === undefined ? {} : { signingKey: options.signingKey }),
      ...(options.token === undefined ? {} : { template: options.token }),
    })
    checks.push(...(await probeTokenProfile((token) => post({ authorization: `Bearer ${token}` }), profile)))
  } catch {
    checks.push(fail('gateway.signing-key', 'cannot sign the token-profile probes: --signing-key is not a usable private JWK, or --token is not a JWT'))
  }

  // 3. A foreign Origin must be refused (DNS rebinding protection), before any MCP processing.
  const foreign = await post({ origin: 'https://airlock-verify.invalid', ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) })
  if (typeof foreign === 'string') checks.push(fail('gateway.foreign-origin', `foreign Origin: request failed (${foreign})`))
  else {
    await foreign.body?.cancel()
    checks.push(foreign.status === 403 ? pass('gateway.foreign-origin', 'foreign Origin: refused with 403') : fail('gateway.foreign-origin', `foreign Origin: expected 403, got ${foreign.status}`))
  }

  // 4. With a valid token: a real MCP client initializes and lists tools.
  if (options.token !== undefined) checks.push(await mcpHandshake(mcpUrl, options.token, doFetch))
  return checks
}

async function mcpHandshake(mcpUrl: string, token: string, doFetch: typeof fetch): Promise<PostureCheck> {
  const client = new Client({ name: 'airlock-verify', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } }, fetch: doFetch })
  try {
    await client.connect(transport)
    const { tools } = await client.listTools()
    return pass('gateway.valid-token', `valid token: MCP initialize and tools/list work (${tools.length} tool${tools.length === 1 ? '' : 's'})`)
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? ` (${String(error.code)})` : ''
    return fail('gateway.valid-token', `valid token: the MCP handshake failed${code}`)
  } finally {
    await client.close().catch(() => undefined)
  }
}

function normalized(url: string): string | undefined {
  try {
    return new URL(url).href
  } catch {
    return undefined
  }
}
