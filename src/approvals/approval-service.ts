import type { AuditActor, AuditEvent, AuditSink } from '../audit/audit-event.js'
import type { Principal } from '../auth/principal.js'
import type { Clock } from '../clock.js'
import { InputError, PolicyError } from '../errors.js'
import { approvalAccessSeconds, mayApprove } from '../policy/approver-grant.js'
import type { Policy, PolicyGrant } from '../policy/policy.js'
import type { ApprovalIdentity, ApprovalRecord, ApprovalStore } from '../state/approval-store.js'

/** Told of every new request (the webhooks); must not throw or wait for delivery. */
export type ApprovalNotifier = (record: ApprovalRecord) => void

export interface ApprovalServiceOptions {
  readonly store: ApprovalStore
  readonly audit: AuditSink
  readonly clock: Clock
  readonly notify?: ApprovalNotifier
}

/** The call that needs an approval, as the call path knows it after validating its arguments. */
export interface ApprovalCall {
  readonly principal: Principal
  readonly policy: Policy
  readonly grant: PolicyGrant
  readonly tool: string
  readonly connection: string | undefined
  readonly argsHash: string
  /** Redacted as in the audit: what the approver sees. */
  readonly args: Record<string, unknown>
  readonly reason: string | undefined
  readonly correlationId: string
}

export type ApprovalGate =
  /** Approved: the call may run once the gateway has admitted it, and `use` took the approval. */
  | { readonly run: true; readonly record: ApprovalRecord }
  | { readonly run: false; readonly code: 'APPROVAL_PENDING' | 'APPROVAL_DENIED'; readonly record: ApprovalRecord; readonly message: string }

export type Verdict = 'approve' | 'deny'

export interface ApprovalService {
  /** Finds or makes the call's request; says whether it may run now. Rejects with StateError or AuditError. */
  gate(call: ApprovalCall): Promise<ApprovalGate>
  /**
   * Takes an approved request for the run about to start (atomic: a once-approval becomes `used`,
   * on one replica only) and audits it; false when it is no longer good (used elsewhere, or ran
   * out). Called after the call was admitted, so a refused call does not spend the approval.
   */
  use(call: ApprovalCall, record: ApprovalRecord): Promise<boolean>
  /** Pending requests this approver may decide under the current policy (never their own), oldest first. */
  list(approver: Principal, policy: Policy): Promise<readonly ApprovalRecord[]>
  /**
   * Approves or denies one request.
   * @throws PolicyError SELF_APPROVAL, NOT_APPROVER, REQUEST_NOT_FOUND or REQUEST_NOT_PENDING; InputError INPUT_INVALID for a blank reason.
   */
  decide(approver: Principal, policy: Policy, id: string, verdict: Verdict, reason: string): Promise<ApprovalRecord>
}

function identityOf(principal: Principal): ApprovalIdentity {
  return { iss: principal.issuer, sub: principal.subject, groups: principal.groups, ...(principal.email === undefined ? {} : { email: principal.email }) }
}

function actorOf(identity: ApprovalIdentity): AuditActor {
  return { iss: identity.iss, sub: identity.sub, groups: identity.groups, ...(identity.email === undefined ? {} : { email: identity.email }) }
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

/** One audit record of a transition: who acted, and both identities in `detail`. */
export function approvalEvent(type: AuditEvent['type'], record: ApprovalRecord, actor: ApprovalIdentity, extra: Partial<AuditEvent> = {}): AuditEvent {
  const { binding } = record
  return {
    type,
    actor: actorOf(actor),
    tool: binding.tool,
    ...(binding.connection === undefined ? {} : { connection: binding.connection }),
    grantId: binding.grantId,
    policyFingerprint: binding.policyFingerprint,
    argsHash: binding.argsHash,
    ...extra,
    detail: {
      requestId: record.id,
      state: record.state,
      requester: { iss: record.requester.iss, sub: record.requester.sub },
      ...(record.decision === undefined ? {} : { approver: { iss: record.decision.approver.iss, sub: record.decision.approver.sub }, decisionReason: record.decision.reason }),
      ...(record.reason === undefined ? {} : { requestReason: record.reason }),
      use: record.use,
      pendingUntil: iso(record.pendingUntil),
      ...(record.accessUntil === undefined ? {} : { accessUntil: iso(record.accessUntil) }),
    },
  }
}

/** Whether two identities are the same person: same issuer and subject. */
export function sameIdentity(a: Pick<ApprovalIdentity, 'iss' | 'sub'>, b: Pick<ApprovalIdentity, 'iss' | 'sub'>): boolean {
  return a.iss === b.iss && a.sub === b.sub
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`
}

/**
 * The approval flow over a store: a call under an approval grant opens (or finds) its request,
 * runs once approved, and every transition is written to the audit before anyone is told of it.
 */
export function createApprovalService(options: ApprovalServiceOptions): ApprovalService {
  const { store, audit, clock } = options

  async function auditExpired(records: readonly ApprovalRecord[]): Promise<void> {
    for (const record of records) await audit.write(approvalEvent('approval.expired', record, record.requester))
  }

  async function gate(call: ApprovalCall): Promise<ApprovalGate> {
    const approval = call.grant.approval
    if (approval === undefined) throw new TypeError(`grant ${call.grant.id} needs no approval`)
    const now = clock.now()
    const opened = await store.open(
      {
        binding: {
          issuer: call.principal.issuer,
          subject: call.principal.subject,
          tool: call.tool,
          connection: call.connection,
          argsHash: call.argsHash,
          grantId: call.grant.id,
          policyFingerprint: call.policy.fingerprint,
        },
        requester: identityOf(call.principal),
        args: call.args,
        ...(call.reason === undefined ? {} : { reason: call.reason }),
        approverGroups: approval.approverGroups,
        use: approval.use,
        accessMs: approvalAccessSeconds(call.grant) * 1000,
        pendingMs: approval.pendingTtl * 1000,
      },
      now,
    )
    await auditExpired(opened.expired)
    const { record } = opened
    if (opened.created) {
      await audit.write(approvalEvent('approval.requested', record, record.requester, { args: record.args, correlationId: call.correlationId }))
      options.notify?.(record)
    }
    if (record.state === 'denied') {
      const reason = record.decision === undefined ? '' : ` Reason given: ${JSON.stringify(record.decision.reason)}.`
      return { run: false, code: 'APPROVAL_DENIED', record, message: `Request ${record.id} for this call was denied by ${record.decision?.approver.sub ?? 'an approver'}.${reason}` }
    }
    if (record.state === 'approved') return { run: true, record }
    const who = approval.approverGroups.join(', ')
    return {
      run: false,
      code: 'APPROVAL_PENDING',
      record,
      message:
        `Request ${record.id} asks ${who} to approve this exact call; nothing has run. ` +
        `Call again with the same arguments once it is approved (it expires at ${utc(record.pendingUntil)} if nobody decides).`,
    }
  }

  return {
    gate,
    async use(call, record) {
      const used = await store.consume(record.id, clock.now())
      if (!used.ok) return false
      await audit.write(approvalEvent('approval.used', used.record, record.requester, { correlationId: call.correlationId }))
      return true
    },
    async list(approver, policy) {
      const { pending, expired } = await store.pending(clock.now())
      await auditExpired(expired)
      const me = identityOf(approver)
      return pending.filter((record) => {
        const grant = policy.grants.find((g) => g.id === record.binding.grantId)
        return grant !== undefined && mayApprove(grant, approver.groups) && !sameIdentity(record.requester, me)
      })
    },
    async decide(approver, policy, id, verdict, reason) {
      if (reason.trim() === '') throw new InputError('INPUT_INVALID', 'reason: a decision needs a reason')
      const me = identityOf(approver)
      const record = await store.get(id)
      // A request the caller may not decide reads as unknown, so ids cannot be probed.
      const grant = record === undefined ? undefined : policy.grants.find((g) => g.id === record.binding.grantId)
      if (record === undefined || grant === undefined) throw new PolicyError('REQUEST_NOT_FOUND', `approval request ${id} not found under the current policy`)
      if (sameIdentity(record.requester, me)) throw new PolicyError('SELF_APPROVAL', `${me.sub} tried to decide their own request ${id}`)
      if (!mayApprove(grant, approver.groups)) throw new PolicyError('NOT_APPROVER', `${me.sub} holds none of ${grant.approval?.approverGroups.join(', ') ?? '(none)'} for request ${id}`)
      const outcome = await store.decide(id, verdict === 'approve' ? 'approved' : 'denied', { approver: me, reason, at: clock.now() })
      if (!outcome.ok) {
        if (outcome.reason === 'NOT_FOUND') throw new PolicyError('REQUEST_NOT_FOUND', `approval request ${id} vanished`)
        if (outcome.expiredNow) await auditExpired([outcome.record])
        throw new PolicyError('REQUEST_NOT_PENDING', `approval request ${id} is ${outcome.record.state}`)
      }
      await audit.write(approvalEvent(verdict === 'approve' ? 'approval.approved' : 'approval.denied', outcome.record, me, { reason }))
      return outcome.record
    },
  }
}
