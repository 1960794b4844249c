import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import type { AuditEvent } from '../audit/audit-event.js'
import type { Principal } from '../auth/principal.js'
import { AuthError } from '../errors.js'
import { randomHex } from '../random-hex.js'
import { checkToolScopes } from '../policy/check-tool-scopes.js'
import type { Policy } from '../policy/policy.js'
import type { AuditSampling } from './audit-sampling.js'
import { capCallerText, MAX_CALLER_NAME } from './cap-caller-text.js'
import { sendJson } from './send-json.js'
import { namesMethod } from './names-method.js'

export interface ScopeGateOptions {
  /** `WWW-Authenticate` value and JSON body for a refused request; `scope` names what to ask for. */
  readonly challenge: (error: AuthError, scope: string) => { header: string; body: Record<string, unknown> }
  /** Refusals are recorded as denied calls, at most one per identity per window. */
  readonly denials: Pick<AuditSampling, 'denial'>
  readonly logError: (message: string, error: unknown) => void
}

/**
 * Answers 403 insufficient_scope (and returns true) when a request calls a tool whose scopes the
 * token lacks; returns false, having sent nothing, otherwise.
 */
export type ScopeGate = (
  req: IncomingMessage,
  res: ServerResponse,
  principal: Principal,
  policy: Policy,
  body: unknown,
  /** The 2025 lane's session (its id's hash), for the audit record. */
  sessionHash: string | undefined,
) => Promise<boolean>

// Loose: a client's message; only a tools/call's tool name is read. A call without a string name
// is not one the SDK will run (it answers invalid params), so it needs no scope here.
const toolCallSchema = z.object({ method: z.literal('tools/call'), params: z.object({ name: z.string() }) })

/** The tool names of the tools/call requests in a body (one message or a 2025-era batch). */
function calledTools(body: unknown): string[] {
  const names: string[] = []
  for (const message of Array.isArray(body) ? body : [body]) {
    if (!namesMethod(message, 'tools/call')) continue
    const parsed = toolCallSchema.safeParse(message)
    if (parsed.success) names.push(parsed.data.params.name)
  }
  return names
}

/**
 * The scope step-up of MCP 2026-07-28 (RFC 6750 §3.1), for both lanes: before a request is served,
 * each tools/call in its body (never a header: `Mcp-Name` may disagree with it) is checked against
 * the policy's `toolScopes`. A shortfall answers HTTP 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="<every scope those tools need>"`, so
 * the client can ask its authorization server for them and retry; the refusal is audited as a
 * denied call. Grants still decide the call once the scopes are there.
 */
export function createScopeGate(options: ScopeGateOptions): ScopeGate {
  return async function scopeGate(req, res, principal, policy, body, sessionHash) {
    const granted = principal.scopes ?? []
    const refused: { tool: string; required: readonly string[]; missing: readonly string[] }[] = []
    for (const tool of calledTools(body)) {
      const shortfall = checkToolScopes(policy, tool, granted)
      if (shortfall !== undefined) refused.push({ tool, ...shortfall })
    }
    if (refused.length === 0) return false

    const correlationId = randomHex(6)
    const actor = { iss: principal.issuer, sub: principal.subject, groups: principal.groups, ...(principal.email === undefined ? {} : { email: principal.email }) }
    for (const { tool, required, missing } of refused) {
      const event: AuditEvent = {
        type: 'tools.call',
        actor,
        ...(sessionHash === undefined ? {} : { session: sessionHash }),
        tool: capCallerText(tool, MAX_CALLER_NAME),
        correlationId,
        policyFingerprint: policy.fingerprint,
        decision: 'deny',
        outcome: 'denied',
        code: 'AUTH_FORBIDDEN',
        reason: 'insufficient_scope',
        client: req.socket.remoteAddress ?? 'unknown',
        detail: { requiredScopes: [...required], missingScopes: [...missing] },
      }
      try {
        await options.denials.denial(actor, event)
      } catch (error) {
        // Refused either way; only the record is lost, and the log says so.
        options.logError(`audit write failed for scope refusal ${correlationId}`, error)
      }
    }
    // RFC 6750 §3.1 and MCP 2026-07-28: the scopes the request needs, not only the missing ones
    // (the client keeps what it already holds and asks for the union).
    const scope = [...new Set(refused.flatMap((r) => r.required))].sort().join(' ')
    const error = new AuthError('AUTH_FORBIDDEN', 'insufficient_scope', `token lacks scopes for ${refused.map((r) => r.tool).join(', ')}`)
    const { header, body: answer } = options.challenge(error, scope)
    // CORS headers, when the origin is allowed, are already on `res`.
    sendJson(res, 403, { ...answer, correlation_id: correlationId }, { 'www-authenticate': header })
    return true
  }
}
