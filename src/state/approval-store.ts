import { createHash } from 'node:crypto'
import { canonicalJson } from '../canonical-json.js'

/** Exactly which call a request is about: an approval is good for this call and no other. */
export interface ApprovalBinding {
  readonly issuer: string
  readonly subject: string
  readonly tool: string
  /** Undefined for tools that take no connection. */
  readonly connection: string | undefined
  /** hashArgs of the validated arguments (canonical JSON), so a changed argument is another call. */
  readonly argsHash: string
  readonly grantId: string
  /** The policy the request was made under; a changed policy asks again. */
  readonly policyFingerprint: string
}

/** Who asked or who decided, as the audit records them. */
export interface ApprovalIdentity {
  readonly iss: string
  readonly sub: string
  readonly groups: readonly string[]
  readonly email?: string | undefined
}

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired' | 'used'

/** What an approval buys: one run of the call, or runs of it until `accessUntil`. */
export type ApprovalUse = 'once' | 'window'

/** What a new request is made of (its id, state and times are the store's). */
export interface ApprovalAsk {
  readonly binding: ApprovalBinding
  readonly requester: ApprovalIdentity
  /** The arguments as the audit shows them (redacted), for the approver. */
  readonly args: Record<string, unknown>
  /** Why, in the agent's words, when given. */
  readonly reason?: string | undefined
  readonly approverGroups: readonly string[]
  readonly use: ApprovalUse
  /** How long an approval lasts, from the decision (once: the time to use it; window: the window). */
  readonly accessMs: number
  /** How long the request may wait for a decision. */
  readonly pendingMs: number
}

export interface ApprovalDecision {
  readonly approver: ApprovalIdentity
  readonly reason: string
  readonly at: number
}

export interface ApprovalRecord extends ApprovalAsk {
  readonly id: string
  readonly state: ApprovalState
  readonly createdAt: number
  readonly pendingUntil: number
  /** Set by approve or deny. */
  readonly decision?: ApprovalDecision
  /** Set by approve: the approval is good until then. */
  readonly accessUntil?: number
  /** Set when a once-approval ran. */
  readonly usedAt?: number
}

/** What `open` found or did; `expired` lists requests it found overdue and marked (to audit). */
export interface ApprovalOpening {
  readonly record: ApprovalRecord
  /** A new pending request was made by this call. */
  readonly created: boolean
  readonly expired: readonly ApprovalRecord[]
}

export type DecideOutcome =
  | { readonly ok: true; readonly record: ApprovalRecord }
  | { readonly ok: false; readonly reason: 'NOT_FOUND' }
  /** Not pending (decided, used or expired); `expiredNow`: it was overdue and this call marked it. */
  | { readonly ok: false; readonly reason: 'NOT_PENDING'; readonly record: ApprovalRecord; readonly expiredNow: boolean }

export type ConsumeOutcome =
  | { readonly ok: true; readonly record: ApprovalRecord }
  | { readonly ok: false; readonly record: ApprovalRecord | undefined }

/**
 * Where approval requests live: memory for one node, Redis for replicas. Every state change is
 * one atomic step (on Redis one Lua script), so two replicas never both decide or both use one
 * request. States: pending → approved | denied | expired; approved → used (once) or expired (its
 * time is over). A denial stays the answer to the same call while the record is kept
 * ({@link APPROVAL_RETENTION_MS} after its last deadline). Methods reject with
 * `StateError('STATE_UNAVAILABLE')` when the backend cannot answer.
 */
export interface ApprovalStore {
  /** The binding's current request (pending, approved and still good, or denied), or a new pending one. */
  open(ask: ApprovalAsk, now: number): Promise<ApprovalOpening>
  /** Approves or denies a pending request that has not expired. */
  decide(id: string, state: 'approved' | 'denied', decision: ApprovalDecision): Promise<DecideOutcome>
  /** Uses an approval: a once-approval becomes `used` (only one caller wins); a window is checked, not changed. */
  consume(id: string, now: number): Promise<ConsumeOutcome>
  get(id: string): Promise<ApprovalRecord | undefined>
  /** Marks every overdue pending request expired and returns those (to audit), then the pending ones, oldest first. */
  pending(now: number): Promise<{ readonly pending: readonly ApprovalRecord[]; readonly expired: readonly ApprovalRecord[] }>
}

/** How long a finished request is kept after its last deadline (a denial answers the same call until then). */
export const APPROVAL_RETENTION_MS = 24 * 60 * 60 * 1000

/** The key of a binding in the store: sha256 (hex) of its canonical JSON. */
export function bindingKey(binding: ApprovalBinding): string {
  return createHash('sha256').update(canonicalJson(binding), 'utf8').digest('hex')
}

/** The state a stored record is really in at `now`: a pending request past its deadline, or an approval past its time, has expired. */
export function effectiveState(record: Pick<ApprovalRecord, 'state' | 'pendingUntil' | 'accessUntil'>, now: number): ApprovalState {
  if (record.state === 'pending' && now >= record.pendingUntil) return 'expired'
  if (record.state === 'approved' && now >= (record.accessUntil ?? 0)) return 'expired'
  return record.state
}
