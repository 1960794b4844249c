import { z } from 'zod'
import type { AuditEvent, AuditSink } from '../../../src/audit/audit-event.js'
import type { Principal } from '../../../src/auth/principal.js'
import { createManualClock } from '../../../src/clock.js'
import { createAuditSampling } from '../../../src/mcp/audit-sampling.js'
import { createCallAdmission, type AdmitCall, type CallLimits } from '../../../src/mcp/admit-call.js'
import type { CallLogEntry } from '../../../src/mcp/call-record.js'
import { createToolCaller, type CallRequest } from '../../../src/mcp/call-tool.js'
import { createToolCatalog } from '../../../src/mcp/tool-catalog.js'
import { noopMetrics, type GatewayMetrics, type RateLimitKind, type ToolCallOutcome } from '../../../src/metrics/gateway-metrics.js'
import type { Policy } from '../../../src/policy/policy.js'
import type { PolicyFileInput } from '../../../src/policy/policy-schema.js'
import { createMemoryState } from '../../../src/state/gateway-state.js'
import type { GatewayState } from '../../../src/state/gateway-state.js'
import { defineTool, type AnyToolDefinition, type ToolContext, type ToolDeps, type ToolResult } from '../../../tools/define-tool.js'
import { policyOf, rds } from '../../policy/policy-fixture.js'

// The tools/call pipeline without HTTP: a caller over test tools (`echo` without a connection,
// `db_echo` and `db_names` with one), in-memory grant periods and limits, and everything it records kept in arrays.

export const NOW = Date.parse('2026-11-29T12:00:00Z')
export const CORRELATION = /\(correlation id ([0-9a-f]{12})\)$/

export const policyFile: PolicyFileInput = {
  version: 1,
  connections: { 'orders-db': rds, 'other-db': rds },
  grants: [
    { id: 'echo-ops', groups: ['ops'], tools: ['echo', 'ghost'], ttl: '15m' },
    { id: 'db-ops', groups: ['ops'], connections: ['orders-db'], tools: ['db_echo', 'db_names'], ttl: '5m', sql: {} },
    { id: 'approval', groups: ['leads'], tools: ['echo'], approval: { approverGroups: ['boss'] } },
    { id: 'gone', groups: ['former'], tools: ['echo'], notAfter: '2026-11-29T11:00:00Z' },
    { id: 'ending', groups: ['temps'], tools: ['echo'], ttl: '1h', notAfter: '2026-11-29T12:00:30Z' },
    { id: 'one-at-a-time', groups: ['serial'], tools: ['echo'], limits: { concurrentCalls: 1 } },
    { id: 'twice-a-minute', groups: ['paced'], tools: ['echo'], limits: { callsPerMinute: 2 } },
    { id: 'db-no-emails', groups: ['analysts'], connections: ['orders-db'], tools: ['db_echo'], sql: {}, detectors: { emails: false } },
    { id: 'db-readers', groups: ['readers'], connections: ['orders-db'], tools: ['db_names'], sql: {} },
  ],
}

type Handler = (ctx: ToolContext<Record<string, unknown>>) => Promise<ToolResult>

export interface HarnessOptions {
  readonly subjectLimits?: CallLimits
  /** Replaces the in-memory admission (e.g. one whose state store fails). */
  readonly admit?: (real: AdmitCall) => AdmitCall
  /** Without it, the caller gets no metrics (its own default). */
  readonly withMetrics?: boolean
  /** Without it, the caller gets no call log. */
  readonly withCallLog?: boolean
}

export interface Harness {
  readonly events: AuditEvent[]
  /** `grant.activated` records: a period started by a call. */
  readonly activated: AuditEvent[]
  readonly logged: { message: string; error: unknown; fields: Record<string, unknown> | undefined }[]
  readonly handled: ToolContext<Record<string, unknown>>[]
  /** Every `metrics.toolCall` and `metrics.rateLimited`, in order. */
  readonly metrics: ({ toolCall: [tool: string, outcome: ToolCallOutcome, durationMs: number] } | { rateLimited: RateLimitKind })[]
  readonly callLog: CallLogEntry[]
  readonly policy: Policy
  readonly deps: ToolDeps
  readonly state: GatewayState
  readonly clock: ReturnType<typeof createManualClock>
  call(overrides?: Partial<CallRequest>): ReturnType<ReturnType<typeof createToolCaller>>
  /** Audit writes fail while this is set: for every write, or only for records of this type. */
  failAudit: boolean | AuditEvent['type']
  handler: Handler
}

export function harness(options: HarnessOptions = {}): Harness {
  const events: AuditEvent[] = []
  const activated: AuditEvent[] = []
  const logged: Harness['logged'] = []
  const handled: ToolContext<Record<string, unknown>>[] = []
  const metricCalls: Harness['metrics'] = []
  const callLog: CallLogEntry[] = []
  const clock = createManualClock(NOW)
  const policy = policyOf(policyFile)
  const deps = { clock } as unknown as ToolDeps
  const audit: AuditSink = {
    async write(event) {
      if (h.failAudit === true || h.failAudit === event.type) throw new Error('disk full')
      // Grant periods have their own records; the call's records are followed in `events`.
      if (event.type === 'grant.activated') activated.push(event)
      else events.push(event)
    },
  }
  const run = async (ctx: ToolContext<Record<string, unknown>>): Promise<ToolResult> => {
    handled.push(ctx)
    return h.handler(ctx)
  }
  const tools = [
    defineTool({ name: 'echo', title: 'Echo', description: 'Echoes.', connectionKinds: [], input: { text: z.string().max(20), extra: z.unknown().optional(), opts: z.object({ depth: z.number() }).optional() }, annotations: () => ({ readOnlyHint: true, destructiveHint: false }), handler: run }),
    defineTool({ name: 'db_echo', title: 'DB echo', description: 'Echoes via a connection.', connectionKinds: ['rds-data'], input: { text: z.string() }, annotations: () => ({ readOnlyHint: true, destructiveHint: false }), handler: run }),
    // A tool that turns a detector off for its own output, here only under db-ops.
    defineTool({ name: 'db_names', title: 'DB names', description: 'Lists names via a connection.', connectionKinds: ['rds-data'], input: { text: z.string() }, outputDetectors: (grant: { id: string }) => (grant.id === 'db-ops' ? { emails: false } : {}), annotations: () => ({ readOnlyHint: true, destructiveHint: false }), handler: run }),
  ] as unknown as AnyToolDefinition[]
  const logError = (message: string, error: unknown, fields?: Record<string, unknown>) => logged.push({ message, error, fields })
  const metrics: GatewayMetrics = {
    ...noopMetrics,
    toolCall: (tool, outcome, durationMs) => metricCalls.push({ toolCall: [tool, outcome, durationMs] }),
    rateLimited: (kind) => metricCalls.push({ rateLimited: kind }),
  }
  // Grant periods and limits in this process's memory, as one gateway keeps them.
  const state = createMemoryState(clock)
  const admit = createCallAdmission({ state, subjectLimits: options.subjectLimits ?? {}, maxSignInAgeMs: 24 * 3600_000 })
  const caller = createToolCaller({
    admit: options.admit === undefined ? admit : options.admit(admit),
    activations: state.activations,
    catalog: createToolCatalog(tools),
    deps,
    audit,
    denials: createAuditSampling({ audit, clock, logError }),
    clock,
    redactArgs: (args) => Object.fromEntries(Object.entries(args).map(([k, v]) => [k, k === 'text' ? '[redacted-by-test]' : v])),
    logError,
    ...(options.withMetrics === true ? { metrics } : {}),
    ...(options.withCallLog === true ? { logCall: (entry: CallLogEntry) => callLog.push(entry) } : {}),
  })
  const h: Harness = {
    events,
    activated,
    logged,
    handled,
    metrics: metricCalls,
    callLog,
    policy,
    deps,
    state,
    clock,
    failAudit: false,
    handler: async (ctx) => ({ text: `echo ${String(ctx.args.text)}` }),
    call(overrides = {}) {
      return caller({
        principal: principal(),
        policy,
        session: { idHash: 'session-hash' },
        name: 'echo',
        rawArgs: { text: 'hi' },
        signal: new AbortController().signal,
        progress: async () => undefined,
        ...overrides,
      })
    },
  }
  return h
}

export function principal(groups: string[] = ['ops'], extra: Partial<Principal> = {}): Principal {
  return { issuer: 'https://idp.test', subject: 'alice', groups, expiresAt: NOW / 1000 + 3600, issuedAt: NOW / 1000 - 60, ...extra }
}

export function replyText(result: { content: { text: string }[] }): string {
  return result.content.map((c) => c.text).join('')
}

/** The correlation id at the end of an error reply ('' when there is none). */
export function correlationIn(result: { content: { text: string }[] }): string {
  return CORRELATION.exec(replyText(result))?.[1] ?? ''
}
