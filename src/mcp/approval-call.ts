import type { z } from 'zod'
import type { ApprovalGate, ApprovalService } from '../approvals/approval-service.js'
import type { Principal } from '../auth/principal.js'
import { InputError } from '../errors.js'
import type { NamedConnection } from '../policy/connection-schema.js'
import type { Policy, PolicyGrant } from '../policy/policy.js'
import { capCallerText, MAX_CALLER_MESSAGE } from './cap-caller-text.js'
import { hashArgs } from './hash-args.js'

/** The argument an agent gives its reason in; never part of the call itself (or of its hash). */
export const APPROVAL_REASON_ARG = 'approvalReason'

export interface ApprovalCallInput {
  readonly approvals: ApprovalService
  readonly principal: Principal
  readonly policy: Policy
  readonly grant: PolicyGrant
  readonly connection: NamedConnection | undefined
  readonly tool: string
  readonly args: z.ZodType<Record<string, unknown>>
  readonly raw: Record<string, unknown>
  readonly redactArgs: (args: Record<string, unknown>) => Record<string, unknown>
  readonly correlationId: string
}

export type ApprovalCallOutcome =
  /** Approved: run the call with these arguments (the reason taken out), taking the approval with `use` once admitted. */
  | { readonly run: true; readonly raw: Record<string, unknown>; readonly gate: Extract<ApprovalGate, { run: true }>; use(): Promise<boolean> }
  | { readonly run: false; readonly gate: Extract<ApprovalGate, { run: false }>; readonly argsHash: string; readonly args: Record<string, unknown> }
  /** The arguments (or the missing reason) are refused before any request is made. */
  | { readonly run: false; readonly gate: undefined; readonly error: InputError }

/**
 * A call under an approval grant: its arguments validated and hashed exactly as a run would, the
 * agent's `approvalReason` taken out (required when the grant says so), then the request found or
 * made. Rejects with StateError or AuditError from the service.
 */
export async function approvalCall(input: ApprovalCallInput, issues: (error: z.ZodError) => string): Promise<ApprovalCallOutcome> {
  const { [APPROVAL_REASON_ARG]: given, ...raw } = input.raw
  if (given !== undefined && (typeof given !== 'string' || given.trim() === '')) {
    return { run: false, gate: undefined, error: new InputError('INPUT_INVALID', `${APPROVAL_REASON_ARG}: expected a non-empty string`) }
  }
  const parsed = input.args.safeParse(raw)
  if (!parsed.success) return { run: false, gate: undefined, error: new InputError('INPUT_INVALID', issues(parsed.error)) }
  const reason = given === undefined ? undefined : capCallerText(given, MAX_CALLER_MESSAGE)
  if (input.grant.approval?.reasonRequired === true && reason === undefined) {
    return { run: false, gate: undefined, error: new InputError('INPUT_INVALID', `${APPROVAL_REASON_ARG}: grant ${JSON.stringify(input.grant.id)} needs a reason for the approver`) }
  }
  const { connection: _connection, ...args } = parsed.data
  const argsHash = hashArgs(parsed.data)
  const redacted = input.redactArgs(args)
  const call = {
    principal: input.principal,
    policy: input.policy,
    grant: input.grant,
    tool: input.tool,
    connection: input.connection?.id,
    argsHash,
    args: redacted,
    reason,
    correlationId: input.correlationId,
  }
  const gate = await input.approvals.gate(call)
  return gate.run ? { run: true, raw, gate, use: () => input.approvals.use(call, gate.record) } : { run: false, gate, argsHash, args: redacted }
}

/** How long a call whose client asked for progress may wait for its approval, polling the store. */
export interface ApprovalWait {
  readonly maxMs: number
  readonly pollMs: number
  /** Resolves after `ms`, or rejects once `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>
  readonly now: () => number
}

/** A real sleep that stops at cancellation. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * {@link approvalCall}, then, while the request is pending and `wait` allows, progress
 * notifications and another look every `pollMs`: the call runs as soon as it is approved.
 * Cancelling ends only the wait; the request stays for a later call.
 */
export async function approvalCallWaiting(
  input: ApprovalCallInput,
  issues: (error: z.ZodError) => string,
  wait: ApprovalWait | undefined,
  progress: (update: { progress: number; message: string }) => Promise<void>,
  signal: AbortSignal,
): Promise<ApprovalCallOutcome> {
  let outcome = await approvalCall(input, issues)
  if (wait === undefined || wait.maxMs <= 0) return outcome
  const until = wait.now() + wait.maxMs
  let step = 0
  while (!outcome.run && outcome.gate?.code === 'APPROVAL_PENDING' && !signal.aborted && wait.now() < until) {
    const { record } = outcome.gate
    const left = Math.max(0, Math.ceil((Math.min(until, record.pendingUntil) - wait.now()) / 1000))
    await progress({ progress: ++step, message: `Waiting for ${record.approverGroups.join(' or ')} to approve request ${record.id}; ${left} s left to wait.` })
    try {
      await wait.sleep(wait.pollMs, signal)
    } catch {
      break
    }
    outcome = await approvalCall(input, issues)
  }
  return outcome
}
