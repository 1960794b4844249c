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
