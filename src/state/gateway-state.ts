import type { Clock } from '../clock.js'
import type { ActivationStore } from './activation-store.js'
import type { ApprovalStore } from './approval-store.js'
import type { CallRateLimiter, ConcurrencyLimiter } from './call-limiter.js'
import { createMemoryActivationStore } from './memory-activation-store.js'
import { createMemoryApprovalStore } from './memory-approval-store.js'
import { createMemoryConcurrencyLimiter } from './memory-concurrency-limiter.js'
import { createMemoryRateLimiter } from './memory-rate-limiter.js'
import type { CancelBus } from './cancel-bus.js'
import type { SessionStore } from './session-store.js'
import type { StateHealth } from './state-health.js'

/** Everything a replica decides calls with besides the policy: one backend for all of it. */
export interface GatewayState {
  readonly activations: ActivationStore
  /** Approval requests: every replica sees and decides the same ones. */
  readonly approvals: ApprovalStore
  readonly rates: CallRateLimiter
  readonly concurrency: ConcurrencyLimiter
  readonly health: StateHealth
  /** The 2025 lane's sessions, when replicas share them; absent: each gateway keeps its own in memory. */
  readonly sessions?: SessionStore
  /** Carries notifications/cancelled between replicas; absent: this process only. */
  readonly cancelBus?: CancelBus
}

/** The embedded backend: this process's memory (one gateway, the sandbox, tests). */
export function createMemoryState(clock: Clock): GatewayState {
  return {
    activations: createMemoryActivationStore(clock),
    approvals: createMemoryApprovalStore(),
    rates: createMemoryRateLimiter(),
    concurrency: createMemoryConcurrencyLimiter(),
    health: { check: async () => ({ ok: true }) },
  }
}
