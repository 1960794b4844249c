// In-process costs of the per-request decisions, warm: token verification, session lookup and the
// policy decision as the gateway wires them, and tools/list for a policy of 500 grants.
import { createJwksCache } from '../../src/auth/jwks-cache.js'
import { createTokenVerifier } from '../../src/auth/verify-token.js'
import { hashSessionId } from '../../src/audit/hash-session-id.js'
import { systemClock } from '../../src/clock.js'
import { gatewayConfigSchema } from '../../src/config.js'
import { createToolCatalog } from '../../src/mcp/tool-catalog.js'
import { buildPolicy } from '../../src/policy/build-policy.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { createMemorySessionStore } from '../../src/state/memory-session-store.js'
import { registeredTools } from '../../tools/index.js'
import { startTestIssuer } from '../../test/support/test-issuer.js'
import { timePerCall } from './time-per-call.js'

export interface MicroCosts {
  /** µs per request, median batch (quietest batch in brackets when printed). */
  readonly verifyMicros: number
  readonly sessionMicros: number
  readonly policyMicros: number
  readonly verifySessionPolicyMicros: number
  readonly toolsList500GrantsMicros: number
  readonly toolsList500GrantsBestMicros: number
  readonly verifySessionPolicyBestMicros: number
}

/** A policy of `count` grants over 100 connections of each kind, the caller in every grant's groups. */
function largePolicy(count: number): unknown {
  const connections: Record<string, unknown> = {}
  for (let i = 0; i < 100; i++) {
    connections[`db-${i}`] = { kind: 'rds-data', region: 'eu-west-1', engine: 'postgres', database: 'test', resourceArn: `arn:aws:rds:eu-west-1:111122223333:cluster:db-${i}`, secretArn: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-${i}` }
    connections[`k8s-${i}`] = { kind: 'eks', region: 'eu-west-1', cluster: `cluster-${i}` }
    connections[`fleet-${i}`] = { kind: 'ssm', region: 'eu-west-1', instanceIds: [`i-0${i.toString(16).padStart(16, '0')}`] }
  }
  const grants = Array.from({ length: count }, (_, i) => {
    const c = i % 100
    switch (i % 4) {
      case 0:
        return { id: `g-${i}`, groups: [`team-${i % 20}`, 'bench'], connections: [`db-${c}`], tools: ['sql_query'], ttl: '8h', sql: { mode: 'read-only', maxRows: 500 } }
      case 1:
        return { id: `g-${i}`, groups: [`team-${i % 20}`, 'bench'], connections: [`k8s-${c}`], tools: ['kubectl'], ttl: '8h', kubectl: { verbs: ['list', 'get'], resources: ['pods'], namespaces: ['shop'] } }
      case 2:
        return { id: `g-${i}`, groups: [`team-${i % 20}`, 'bench'], connections: [`fleet-${c}`], tools: ['ssm_run'], ttl: '8h', ssm: { commands: [['uptime']] } }
      default:
        return { id: `g-${i}`, groups: [`team-${i % 20}`, 'bench'], tools: ['whoami', 'list_connections'], ttl: '8h' }
    }
  })
  return { version: 1, connections, grants }
}

export async function measureMicroCosts(minMs: number): Promise<MicroCosts> {
  const issuer = await startTestIssuer()
  try {
    const audience = 'http://127.0.0.1:1/mcp'
    const config = gatewayConfigSchema.parse({ issuer: issuer.issuer, policy: ['unused.json'], audit: { path: 'unused.jsonl' } })
    const jwks = createJwksCache({ issuer: issuer.issuer, clock: systemClock, allowInsecureLoopback: true })
    const verifier = createTokenVerifier({
      issuer: issuer.issuer,
      audience,
      algorithms: config.algorithms,
      clockToleranceSeconds: config.clockToleranceSeconds,
      groupsClaim: config.groupsClaim,
      profile: { tokenTypes: config.tokenTypes, maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds, allowedClients: config.allowedClients, requiredScopes: config.requiredScopes, requiredClaims: config.requiredClaims },
      keys: jwks.getKey,
      clock: systemClock,
    })
    const now = Math.floor(systemClock.now() / 1000)
    const header = `Bearer ${await issuer.mint({ sub: 'bench-0', groups: ['bench'], aud: audience, iat: now, exp: now + 3600 })}`
    const principal = await verifier.verify(header)

    const store = createMemorySessionStore({ idleTimeoutMs: 3_600_000, maxPerSubject: 1000, maxTotal: 1_000_000 })
    const sessionId = 'x'.repeat(43)
    const idHash = hashSessionId(sessionId)
    const t = systemClock.now()
    await store.open({ idHash, issuer: principal.issuer, subject: principal.subject, createdAt: t, lastSeenAt: t, expiresAt: t + 3_600_000 }, t)

    const built = buildPolicy([{ source: 'bench', data: largePolicy(500) }])
    if (!built.ok) throw new TypeError(`bench policy invalid: ${JSON.stringify(built.issues)}`)
    const policy = built.policy
    const catalog = createToolCatalog(registeredTools)
    const request = { tool: 'sql_query', connectionKinds: ['rds-data' as const], connection: 'db-99' }

    const verify = await timePerCall(() => verifier.verify(header), minMs)
    const session = await timePerCall(() => store.touch(hashSessionId(sessionId), principal.issuer, principal.subject, systemClock.now()), minMs)
    const decide = await timePerCall(() => evaluate(policy, principal, request, systemClock.now()), minMs)
    const all = await timePerCall(async () => {
      const p = await verifier.verify(header)
      await store.touch(hashSessionId(sessionId), p.issuer, p.subject, systemClock.now())
      return evaluate(policy, p, request, systemClock.now())
    }, minMs)
    const list = await timePerCall(() => JSON.stringify(catalog.list(policy, principal, systemClock.now())), minMs)
    return {
      verifyMicros: verify.medianMicros,
      sessionMicros: session.medianMicros,
      policyMicros: decide.medianMicros,
      verifySessionPolicyMicros: all.medianMicros,
      verifySessionPolicyBestMicros: all.bestMicros,
      toolsList500GrantsMicros: list.medianMicros,
      toolsList500GrantsBestMicros: list.bestMicros,
    }
  } finally {
    await issuer.stop()
  }
}
