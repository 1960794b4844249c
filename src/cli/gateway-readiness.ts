import type { AuditHealth } from '../audit/audit-trail.js'
import type { ReadinessCheck } from '../readiness-check.js'
import type { StateHealth } from '../state/state-health.js'

const OK = { ok: true } as const

/** Not ready once shutdown has begun: load balancers stop sending while in-flight calls finish. */
export function drainingCheck(draining: () => boolean): ReadinessCheck {
  return { name: 'draining', check: async () => (draining() ? { ok: false, reason: 'shutting_down' } : OK) }
}

/** A policy has been loaded and is enforced (a refused reload keeps the last good one: still ready). */
export function policyCheck(fingerprint: () => string | undefined): ReadinessCheck {
  return { name: 'policy', check: async () => (fingerprint() === undefined ? { ok: false, reason: 'policy_not_loaded' } : OK) }
}

/**
 * The issuer's signing keys are held, so tokens can be verified. While they are not, each probe
 * asks for a fetch (the cache's own backoff and cooldown apply).
 */
export function issuerKeysCheck(jwks: { hasKeys(): boolean; refresh(): Promise<boolean> }): ReadinessCheck {
  return {
    name: 'issuer_keys',
    async check() {
      if (jwks.hasKeys() || (await jwks.refresh())) return OK
      return { ok: false, reason: 'issuer_keys_unavailable' }
    },
  }
}

/** The audit sink takes records: while it does not, every result would be withheld. */
export function auditCheck(audit: { health(): AuditHealth }): ReadinessCheck {
  return {
    name: 'audit',
    async check() {
      const health = audit.health()
      return health.ok ? OK : { ok: false, reason: health.reason }
    },
  }
}

/** The state store (Redis) answers: without it no call is decided, so the replica takes no traffic. */
export function stateCheck(health: StateHealth): ReadinessCheck {
  return { name: 'state', check: async () => ((await health.check()).ok ? OK : { ok: false, reason: 'state_unavailable' }) }
}
