import type { Principal } from '../auth/principal.js'
import type { AuditActor, AuditEvent, AuditSink } from '../audit/audit-event.js'
import type { Clock } from '../clock.js'
import type { GatewayMetrics, ToolCallOutcome } from '../metrics/gateway-metrics.js'
import type { AuditSampling } from './audit-sampling.js'
import { capAuditFields } from './cap-audit-fields.js'
import { capCallerText, MAX_CALLER_MESSAGE, MAX_CALLER_NAME } from './cap-caller-text.js'
import { fixedText } from './tool-error-text.js'

/** The MCP `tools/call` result shape. */
export interface CallResult {
  [key: string]: unknown
  content: { type: 'text'; text: string }[]
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

/** Where every tool result names its call's correlation id (errors also say it in their text). */
export const CORRELATION_META_KEY = 'dev.airlock/correlationId'

/** A refusal or failure as the caller sees it: the code, its fixed text and the correlation id. */
export function errorResult(code: string, text: string, correlationId: string): CallResult {
  return { content: [{ type: 'text', text: `[${code}] ${text} (correlation id ${correlationId})` }], isError: true, _meta: { [CORRELATION_META_KEY]: correlationId } }
}

/** Where a result names the approval request it waits on. */
export const APPROVAL_REQUEST_META_KEY = 'dev.airlock/approvalRequest'

export interface CallLogEntry {
  readonly correlationId: string
  /** A catalog name, or `unknown`. */
  readonly tool: string
  readonly outcome: ToolCallOutcome
  readonly code?: string
  readonly grantId?: string
  readonly durationMs: number
}

export interface CallRecordOptions {
  readonly audit: AuditSink
  /** Denied calls are recorded through this, at most one per identity per window (with a count of the rest). */
  readonly denials: Pick<AuditSampling, 'denial'>
  readonly clock: Clock
  readonly metrics: GatewayMetrics
  /** Full error detail for operators (never shown to the agent). */
  readonly logError: (message: string, error: unknown, fields?: Record<string, unknown>) => void
  /** One line per finished call for the operator log: identifiers and codes only, never arguments or messages. */
  readonly logCall?: ((entry: CallLogEntry) => void) | undefined
}

export interface CallRecordStart {
  readonly correlationId: string
  /** When the call arrived (clock ms): durations are measured from here. */
  readonly started: number
  readonly principal: Principal
  /** Hash of the 2025 lane's session id; absent on the stateless lane. */
  readonly sessionIdHash: string | undefined
  /** The tool name as the caller sent it. */
  readonly name: string
  /** The catalog's name for it, or undefined when the catalog has no such tool. */
  readonly catalogName: string | undefined
  readonly policyFingerprint: string
  /** `arguments.connection` when the caller sent a string there. */
  readonly connection: string | undefined
}

/** The fields every record of one call carries, with caller-controlled strings capped. */
export interface CallRecordBase {
  readonly type: 'tools.call'
  readonly actor: AuditActor
  readonly session?: string
  readonly tool: string
  readonly correlationId: string
  readonly policyFingerprint: string
  readonly connection?: string
}

export interface CallRecord {
  readonly base: CallRecordBase
  /**
   * Records the call's outcome (a denial through the per-identity sampling when `sampled`) and
   * only then answers `result`; if the record cannot be written the answer is AUDIT_UNAVAILABLE.
   */
  finish(event: Omit<AuditEvent, 'type'>, result: CallResult, sampled?: boolean): Promise<CallResult>
}

function actorOf(principal: Principal): AuditActor {
  return {
    iss: principal.issuer,
    sub: principal.subject,
    groups: principal.groups,
    ...(principal.email === undefined ? {} : { email: principal.email }),
  }
}

/**
 * UTF-8 bytes of a result's text content: what the caller reads. Not the size of the serialised
 * result, which would cost a second JSON.stringify of every result (60 µs for 200 rows) only to
 * count what structuredContent repeats of the text.
 */
function textBytes(result: CallResult): number {
  let bytes = 0
  for (const item of result.content) bytes += Buffer.byteLength(item.text)
  return bytes
}

/** Starts the record of one `tools/call`: its common fields, and how it ends (audit, metrics, call log). */
export function startCallRecord(options: CallRecordOptions, start: CallRecordStart): CallRecord {
  const { audit, clock, metrics } = options
  const { correlationId, started } = start
  const actor = actorOf(start.principal)
  const base: CallRecordBase = {
    type: 'tools.call',
    actor,
    ...(start.sessionIdHash === undefined ? {} : { session: start.sessionIdHash }),
    tool: capCallerText(start.name, MAX_CALLER_NAME),
    correlationId,
    policyFingerprint: start.policyFingerprint,
    ...(start.connection === undefined ? {} : { connection: capCallerText(start.connection, MAX_CALLER_NAME) }),
  }

  function observe(outcome: ToolCallOutcome, durationMs: number, code: string | undefined, grantId: string | undefined): void {
    const tool = start.catalogName ?? 'unknown'
    metrics.toolCall(tool, outcome, durationMs)
    options.logCall?.({ correlationId, tool, outcome, durationMs, ...(code === undefined ? {} : { code }), ...(grantId === undefined ? {} : { grantId }) })
  }

  async function finish(event: Omit<AuditEvent, 'type'>, result: CallResult, sampled = false): Promise<CallResult> {
    const durationMs = clock.now() - started
    const resultBytes = textBytes(result)
    const record: AuditEvent = {
      ...base,
      ...event,
      ...(event.args === undefined ? {} : { args: capAuditFields(event.args) }),
      ...(event.detail === undefined ? {} : { detail: capAuditFields(event.detail) }),
      ...(event.reason === undefined ? {} : { reason: capCallerText(event.reason, MAX_CALLER_MESSAGE) }),
      durationMs,
      resultBytes,
    }
    try {
      if (sampled) await options.denials.denial(actor, record)
      else await audit.write(record)
    } catch (error) {
      options.logError(`audit write failed for call ${correlationId}`, error, { correlationId })
      observe('error', durationMs, 'AUDIT_UNAVAILABLE', event.grantId)
      return errorResult('AUDIT_UNAVAILABLE', fixedText('AUDIT_UNAVAILABLE'), correlationId)
    }
    observe(event.outcome ?? 'error', durationMs, event.code, event.grantId)
    return result
  }

  return { base, finish }
}
