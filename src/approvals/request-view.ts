import type { ApprovalRecord } from '../state/approval-store.js'

/** A request as an approver sees it (MCP, admin API, CLI, web): arguments redacted as in the audit, no secrets. */
export interface RequestView {
  readonly id: string
  readonly state: ApprovalRecord['state']
  readonly requester: { readonly iss: string; readonly sub: string; readonly email?: string }
  readonly tool: string
  readonly connection?: string
  readonly grantId: string
  readonly args: Record<string, unknown>
  readonly argsHash: string
  readonly reason?: string
  readonly use: ApprovalRecord['use']
  readonly approverGroups: readonly string[]
  readonly createdAt: string
  readonly pendingUntil: string
  /** Whole seconds until a pending request expires (0 once it has). */
  readonly secondsLeft: number
  readonly decision?: { readonly by: string; readonly reason: string; readonly at: string }
  readonly accessUntil?: string
}

const iso = (ms: number) => new Date(ms).toISOString()

export function requestView(record: ApprovalRecord, now: number): RequestView {
  const { binding, requester } = record
  return {
    id: record.id,
    state: record.state,
    requester: { iss: requester.iss, sub: requester.sub, ...(requester.email === undefined ? {} : { email: requester.email }) },
    tool: binding.tool,
    ...(binding.connection === undefined ? {} : { connection: binding.connection }),
    grantId: binding.grantId,
    args: record.args,
    argsHash: binding.argsHash,
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    use: record.use,
    approverGroups: record.approverGroups,
    createdAt: iso(record.createdAt),
    pendingUntil: iso(record.pendingUntil),
    secondsLeft: Math.max(0, Math.ceil((record.pendingUntil - now) / 1000)),
    ...(record.decision === undefined ? {} : { decision: { by: record.decision.approver.sub, reason: record.decision.reason, at: iso(record.decision.at) } }),
    ...(record.accessUntil === undefined ? {} : { accessUntil: iso(record.accessUntil) }),
  }
}

/** One line: who, what, where, why and time left. */
export function requestLine(view: RequestView): string {
  const where = view.connection === undefined ? '' : ` on ${view.connection}`
  const why = view.reason === undefined ? 'no reason given' : `reason: ${JSON.stringify(view.reason)}`
  const left = view.state === 'pending' ? `${Math.floor(view.secondsLeft / 60)}m${String(view.secondsLeft % 60).padStart(2, '0')}s left` : view.state
  return `${view.id}: ${view.requester.sub} wants ${view.tool}${where} ${JSON.stringify(view.args)} under grant ${view.grantId} (${why}; ${left})`
}
