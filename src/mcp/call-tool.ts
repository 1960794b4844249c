import type { Principal } from '../auth/principal.js'
import type { AuditSink } from '../audit/audit-event.js'
import type { Clock } from '../clock.js'
import { AirlockError, InputError, PolicyError } from '../errors.js'
import { randomHex } from '../random-hex.js'
import { noopMetrics, type GatewayMetrics } from '../metrics/gateway-metrics.js'
import { redactToolOutput } from '../guard/masking/redact-tool-output.js'
import { evaluate } from '../policy/evaluate.js'
import { resolveOutputDetectors } from '../policy/output-detectors.js'
import type { Policy } from '../policy/policy.js'
import type { Activation, ActivationStore } from '../state/activation-store.js'
import type { ApprovalService } from '../approvals/approval-service.js'
import type { NamedConnection } from '../policy/connection-schema.js'
import type { PolicyGrant } from '../policy/policy.js'
import type { ActivationLookup, ProgressUpdate, ToolDeps } from '../../tools/define-tool.js'
import type { AdmitCall } from './admit-call.js'
import { APPROVAL_REASON_ARG, type ApprovalWait } from './approval-call.js'
import { approvalBranch, takeOrRefuse } from './approval-branch.js'
import { recordActivation } from './record-activation.js'
import { redirectToApproval } from './redirect-to-approval.js'
import type { AuditSampling } from './audit-sampling.js'
import { CORRELATION_META_KEY, errorResult, startCallRecord, type CallLogEntry, type CallResult } from './call-record.js'
import { capCallerText, MAX_CALLER_NAME } from './cap-caller-text.js'
import { hashArgs } from './hash-args.js'
import { callerError, fixedText } from './tool-error-text.js'
import type { ToolCatalog } from './tool-catalog.js'

export { APPROVAL_REQUEST_META_KEY, CORRELATION_META_KEY, type CallResult } from './call-record.js'

/** The part of a 2025-lane session a call records; grant time lives in activations, not here. */
export interface CallSession {
  /** Hash of the 2025 lane's session id; absent on the stateless 2026-07-28 lane. */
  readonly idHash: string | undefined
}

export interface CallRequest {
  readonly principal: Principal
  /** The policy snapshot of the HTTP request: the decision and the tool both use this one. */
  readonly policy: Policy
  readonly session: CallSession
  readonly name: string
  /** `arguments` as the caller sent them: anything but an object (or their absence) is refused as INPUT_INVALID. */
  readonly rawArgs: unknown
  readonly signal: AbortSignal
  readonly progress: (update: ProgressUpdate) => Promise<void>
  /** The client sent a progressToken: a call waiting for approval may wait here (see ToolCallerOptions.approvalWait). */
  readonly wantsProgress?: boolean
}

export interface ToolCallerOptions {
  readonly catalog: ToolCatalog
  readonly deps: ToolDeps
  readonly audit: AuditSink
  /** Denied calls are recorded through this, at most one per identity per window (with a count of the rest). */
  readonly denials: Pick<AuditSampling, 'denial'>
  readonly clock: Clock
  /** Limits and the subject's access period under the deciding grant, checked before anything else runs. */
  readonly admit: AdmitCall
  /** Read-only view for tools that show access periods (whoami, list_connections). */
  readonly activations: Pick<ActivationStore, 'find' | 'markRecorded'>
  readonly redactArgs: (args: Record<string, unknown>) => Record<string, unknown>
  /** Full error detail for operators (never shown to the agent). */
  readonly logError: (message: string, error: unknown, fields?: Record<string, unknown>) => void
  readonly metrics?: GatewayMetrics
  /** One line per finished call for the operator log: identifiers and codes only, never arguments or messages. */
  readonly logCall?: (entry: CallLogEntry) => void
  /** Calls under approval grants wait for a human through this; absent, they are refused as APPROVAL_REQUIRED. */
  readonly approvals?: ApprovalService
  /** When the client asked for progress, how long a call may wait for its approval; absent: it answers APPROVAL_PENDING at once. */
  readonly approvalWait?: ApprovalWait
}

export type ToolCaller = (request: CallRequest) => Promise<CallResult>

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'array' : typeof value
}

function zodIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(arguments)'}: ${i.message}`).join('; ')
}

/**
 * The `tools/call` pipeline: policy re-evaluated at call time; the caller's limits and access
 * period under the deciding grant (a period that starts here is recorded as `grant.activated`);
 * arguments validated; for a tool that reaches AWS a `tools.intent` record flushed before it runs (if that fails, it does not run:
 * AUDIT_UNAVAILABLE), the tool run, and the outcome audited (and flushed) before anything is
 * returned. Every caller-controlled string in records and replies is capped; denials are sampled
 * per identity.
 */
export function createToolCaller(options: ToolCallerOptions): ToolCaller {
  const { catalog, clock, audit } = options
  const metrics = options.metrics ?? noopMetrics

  /** The caller's stored activations by grant id (a failure reads STATE_UNAVAILABLE in the tool's result). */
  function lookupFor(principal: Principal): ActivationLookup {
    return async (grantIds) => {
      const found = await options.activations.find(grantIds.map((grantId) => ({ issuer: principal.issuer, subject: principal.subject, grantId })))
      const byGrant = new Map<string, Activation>()
      grantIds.forEach((grantId, i) => {
        const activation = found[i]
        if (activation !== undefined) byGrant.set(grantId, activation)
      })
      return byGrant
    }
  }

  return async function callTool(request) {
    const correlationId = randomHex(6)
    const started = clock.now()
    const raw = request.rawArgs === undefined ? {} : request.rawArgs
    const requestedConnection = isRecord(raw) && typeof raw.connection === 'string' ? raw.connection : undefined
    const entry = catalog.find(request.name)
    const { base, finish } = startCallRecord(
      { audit, denials: options.denials, clock, metrics, logError: options.logError, logCall: options.logCall },
      {
        correlationId,
        started,
        principal: request.principal,
        sessionIdHash: request.session.idHash,
        name: request.name,
        catalogName: entry?.tool.name,
        policyFingerprint: request.policy.fingerprint,
        connection: requestedConnection,
      },
    )

    if (!isRecord(raw)) {
      // A malformed request, whatever the tool and policy: nothing in it can be evaluated, so no grant decides.
      const error = new InputError('INPUT_INVALID', `(arguments): expected an object, received ${jsonKind(raw)}`)
      return finish(
        { decision: 'deny', outcome: 'denied', code: error.code, reason: error.message },
        errorResult(error.code, callerError(error).text, correlationId),
        true,
      )
    }

    const initial = evaluate(
      request.policy,
      request.principal,
      { tool: request.name, connectionKinds: entry?.tool.connectionKinds ?? [], connection: requestedConnection, openToEveryone: entry?.tool.openToEveryone },
      started,
    )
    const decision = redirectToApproval(initial, entry, raw, request, started)
    let allowed: { readonly grant: PolicyGrant; readonly grantId: string; readonly connection: NamedConnection | undefined } | undefined = decision.allow ? decision : undefined
    // The reason for an approver is never an argument of the tool (the listing offers it wherever an approval grant applies).
    const { [APPROVAL_REASON_ARG]: _reason, ...withoutReason } = raw
    let callArgs: Record<string, unknown> = withoutReason
    let takeApproval: (() => Promise<boolean>) | undefined
    if (entry !== undefined && !decision.allow && decision.reason === 'APPROVAL_REQUIRED' && options.approvals !== undefined) {
      const branch = await approvalBranch({
        approvals: options.approvals,
        decision,
        entry,
        raw,
        request,
        correlationId,
        redactArgs: options.redactArgs,
        wait: request.wantsProgress === true ? options.approvalWait : undefined,
        issues: zodIssues,
        logError: options.logError,
      })
      if (!branch.run) return finish(branch.event, branch.result)
      allowed = decision
      callArgs = branch.args
      takeApproval = branch.use
    }
    if (entry === undefined || allowed === undefined) {
      const reason = decision.allow ? 'UNKNOWN_TOOL' : decision.reason
      const message = decision.allow ? `${JSON.stringify(capCallerText(request.name, MAX_CALLER_NAME))} is not one of the tools tools/list shows you.` : decision.message
      const code = decision.allow ? 'UNKNOWN_TOOL' : decision.reason === 'APPROVAL_REQUIRED' ? 'APPROVAL_REQUIRED' : 'POLICY_DENIED'
      return finish(
        { decision: 'deny', outcome: 'denied', code, reason, ...(decision.allow || decision.grantId === undefined ? {} : { grantId: decision.grantId }) },
        errorResult(code, callerError(new PolicyError(code, message)).text, correlationId),
        true,
      )
    }

    const { grant, grantId, connection } = allowed
    let admission: Awaited<ReturnType<AdmitCall>>
    try {
      admission = await options.admit(request.principal, grant, started)
    } catch (error) {
      // Fail closed: without the state store no call is decided (StateError reads STATE_UNAVAILABLE).
      options.logError(`state store failed for call ${correlationId}; the call was refused`, error, { correlationId })
      const { code, text } = callerError(error)
      return finish({ decision: 'allow', grantId, outcome: 'error', code, reason: error instanceof Error ? error.message : String(error) }, errorResult(code, text, correlationId))
    }
    if (!admission.ok) {
      if (admission.reason === 'CALLS_PER_MINUTE' || admission.reason === 'CONCURRENT_CALLS') metrics.rateLimited(admission.reason === 'CALLS_PER_MINUTE' ? 'calls_per_minute' : 'concurrent_calls')
      // Refusals come in floods (an agent retrying): sampled per identity like policy denials.
      return finish(
        { decision: 'deny', outcome: 'denied', code: admission.code, reason: admission.reason, grantId },
        errorResult(admission.code, callerError(new PolicyError(admission.code, admission.message)).text, correlationId),
        true,
      )
    }
    try {
      try {
        await recordActivation(admission, { base, grantId, principal: request.principal }, { audit, activations: options.activations, logError: options.logError })
      } catch (error) {
        options.logError(`audit write failed for the grant activation of call ${correlationId}; the tool was not run`, error, { correlationId })
        return await finish(
          { decision: 'allow', grantId, outcome: 'error', code: 'AUDIT_UNAVAILABLE', reason: 'activation not recorded; the tool was not run' },
          errorResult('AUDIT_UNAVAILABLE', fixedText('AUDIT_UNAVAILABLE'), correlationId),
        )
      }

      if (takeApproval !== undefined) {
        // Taken only now that the call is admitted: a refused call does not spend the approval.
        const refusal = await takeOrRefuse(takeApproval, grantId, correlationId, options.logError)
        if (refusal !== undefined) return await finish(refusal.event, refusal.result)
      }
      const parsed = entry.args.safeParse(callArgs)
      if (!parsed.success) {
        const error = new InputError('INPUT_INVALID', zodIssues(parsed.error))
        return await finish(
          { decision: 'allow', grantId, outcome: 'error', code: error.code, reason: error.message },
          errorResult(error.code, callerError(error).text, correlationId),
        )
      }
      const { connection: _connection, ...args } = parsed.data
      const redacted = options.redactArgs(args)
      const argsHash = hashArgs(parsed.data)

      // Output from a system (query rows, command output, cluster objects) goes through the grant's
      // value detectors; the connection-less tools only echo the caller's own claims and the policy.
      const detectors = entry.tool.connectionKinds.length === 0 ? undefined : resolveOutputDetectors(grant.detectors, entry.tool.outputDetectors?.(grant))
      if (entry.tool.connectionKinds.length > 0) {
        // No action without its record: a crash, hang or shutdown mid-call still leaves who, what and where.
        try {
          await audit.write({ ...base, type: 'tools.intent', grantId, argsHash })
        } catch (error) {
          options.logError(`audit write failed for the intent of call ${correlationId}; the tool was not run`, error, { correlationId })
          return await finish(
            { decision: 'allow', grantId, outcome: 'error', code: 'AUDIT_UNAVAILABLE', reason: 'intent not recorded; the tool was not run', argsHash, args: redacted },
            errorResult('AUDIT_UNAVAILABLE', fixedText('AUDIT_UNAVAILABLE'), correlationId),
          )
        }
      }

      try {
        const result = await entry.tool.handler({
          principal: request.principal,
          grant,
          connection,
          args,
          deps: options.deps,
          signal: request.signal,
          progress: request.progress,
          activations: lookupFor(request.principal),
          policy: request.policy,
          approvals: options.approvals,
        })
        const output = detectors === undefined ? { ...result, report: undefined } : redactToolOutput(result, detectors)
        const redaction = output.report !== undefined && output.report.redactedStrings > 0 ? { outputRedaction: output.report } : undefined
        const detail = result.audit === undefined && redaction === undefined ? undefined : { ...result.audit, ...redaction }
        return await finish(
          { decision: 'allow', grantId, outcome: 'ok', argsHash, args: redacted, ...(detail === undefined ? {} : { detail }) },
          {
            content: [{ type: 'text', text: output.text }],
            ...(output.structured === undefined ? {} : { structuredContent: output.structured }),
            // The caller can name this call to an admin, who finds it in the audit by this id.
            _meta: { [CORRELATION_META_KEY]: correlationId },
          },
        )
      } catch (error) {
        const { code, text: errorText } = callerError(error)
        // Database and cluster messages quote data; they pass the same detectors as results.
        const text = detectors === undefined ? errorText : redactToolOutput({ text: errorText }, detectors).text
        if (!(error instanceof AirlockError)) options.logError(`tool ${entry.tool.name} failed (correlation id ${correlationId})`, error, { correlationId })
        return await finish(
          { decision: 'allow', grantId, outcome: 'error', code, argsHash, args: redacted, reason: error instanceof Error ? error.message : String(error) },
          errorResult(code, text, correlationId),
        )
      }
    } finally {
      await admission.release()
    }
  }
}
