import type { z } from 'zod'
import type { ApprovalService } from '../approvals/approval-service.js'
import type { AuditEvent } from '../audit/audit-event.js'
import type { Principal } from '../auth/principal.js'
import { PolicyError } from '../errors.js'
import type { Decision } from '../policy/evaluate.js'
import type { Policy } from '../policy/policy.js'
import { approvalCallWaiting, type ApprovalWait } from './approval-call.js'
import { APPROVAL_REQUEST_META_KEY, CORRELATION_META_KEY, errorResult, type CallResult } from './call-record.js'
import { callerError } from './tool-error-text.js'
import type { ToolCatalog } from './tool-catalog.js'
import type { ProgressUpdate } from '../../tools/define-tool.js'

/** The outcome of a call that ends before its tool runs: its audit fields and its result. */
export interface Refusal {
  readonly run: false
  readonly event: Omit<AuditEvent, 'type'>
  readonly result: CallResult
}

export interface ApprovalBranchInput {
  readonly approvals: ApprovalService
  readonly decision: Extract<Decision, { reason: 'APPROVAL_REQUIRED' }>
  readonly entry: NonNullable<ReturnType<ToolCatalog['find']>>
  readonly raw: Record<string, unknown>
  readonly request: {
    readonly principal: Principal
    readonly policy: Policy
    readonly signal: AbortSignal
    readonly progress: (update: ProgressUpdate) => Promise<void>
  }
  readonly correlationId: string
  readonly redactArgs: (args: Record<string, unknown>) => Record<string, unknown>
  readonly wait: ApprovalWait | undefined
  readonly issues: (error: z.ZodError) => string
  readonly logError: (message: string, error: unknown, fields?: Record<string, unknown>) => void
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * A call under an approval grant in the call path: refused (invalid arguments, a missing reason,
 * pending, denied, the store or audit down) with what to record and answer, or approved with the
 * arguments to run and the `use` that takes the approval once the call is admitted.
 */
export async function approvalBranch(input: ApprovalBranchInput): Promise<Refusal | { readonly run: true; readonly args: Record<string, unknown>; readonly use: () => Promise<boolean> }> {
  const { decision, correlationId, request } = input
  const { grantId } = decision
  let outcome: Awaited<ReturnType<typeof approvalCallWaiting>>
  try {
    outcome = await approvalCallWaiting(
      { approvals: input.approvals, principal: request.principal, policy: request.policy, grant: decision.grant, connection: decision.connection, tool: input.entry.tool.name, args: input.entry.args, raw: input.raw, redactArgs: input.redactArgs, correlationId },
      input.issues,
      input.wait,
      request.progress,
      request.signal,
    )
  } catch (error) {
    input.logError(`approval request failed for call ${correlationId}; the call was refused`, error, { correlationId })
    const { code, text } = callerError(error)
    return { run: false, event: { decision: 'deny', grantId, outcome: 'error', code, reason: message(error) }, result: errorResult(code, text, correlationId) }
  }
  if (outcome.run) return { run: true, args: outcome.raw, use: outcome.use }
  if (outcome.gate === undefined) {
    const { error } = outcome
    return { run: false, event: { decision: 'deny', outcome: 'denied', code: error.code, reason: error.message, grantId }, result: errorResult(error.code, callerError(error).text, correlationId) }
  }
  const { gate } = outcome
  const result = errorResult(gate.code, callerError(new PolicyError(gate.code, gate.message)).text, correlationId)
  return {
    run: false,
    event: { decision: 'deny', outcome: 'denied', code: gate.code, reason: gate.code, grantId, argsHash: outcome.argsHash, args: outcome.args, detail: { requestId: gate.record.id } },
    // The request id is in the text for the agent and in _meta for clients (no structuredContent: it would have to match the tool's output schema).
    result: { ...result, _meta: { [CORRELATION_META_KEY]: correlationId, [APPROVAL_REQUEST_META_KEY]: gate.record.id } },
  }
}

/** Takes the approval for the admitted call; a refusal to record and answer when it is gone or the store fails. */
export async function takeOrRefuse(
  use: () => Promise<boolean>,
  grantId: string,
  correlationId: string,
  logError: ApprovalBranchInput['logError'],
): Promise<Refusal | undefined> {
  let taken: boolean
  try {
    taken = await use()
  } catch (error) {
    logError(`approval use failed for call ${correlationId}; the tool was not run`, error, { correlationId })
    const { code, text } = callerError(error)
    return { run: false, event: { decision: 'allow', grantId, outcome: 'error', code, reason: message(error) }, result: errorResult(code, text, correlationId) }
  }
  if (taken) return undefined
  const text = 'The approval of this call was used or ran out a moment ago; call again to ask for a new one.'
  return {
    run: false,
    event: { decision: 'deny', grantId, outcome: 'denied', code: 'APPROVAL_PENDING', reason: 'APPROVAL_TAKEN' },
    result: errorResult('APPROVAL_PENDING', callerError(new PolicyError('APPROVAL_PENDING', text)).text, correlationId),
  }
}
