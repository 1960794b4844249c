/** A gateway's call path with the approval flow, below HTTP, for the approval tests. */
import assert from 'node:assert/strict'
import { z } from 'zod'
import { createApprovalService, type ApprovalService } from '../../../src/approvals/approval-service.js'
import type { AuditEvent, AuditSink } from '../../../src/audit/audit-event.js'
import { redactArgs } from '../../../src/audit/redact-args.js'
import type { Principal } from '../../../src/auth/principal.js'
import type { ManualClock } from '../../../src/clock.js'
import { AirlockError } from '../../../src/errors.js'
import { createAuditSampling } from '../../../src/mcp/audit-sampling.js'
import { createCallAdmission } from '../../../src/mcp/admit-call.js'
import { APPROVAL_REQUEST_META_KEY, createToolCaller, type CallResult } from '../../../src/mcp/call-tool.js'
import { createToolCatalog } from '../../../src/mcp/tool-catalog.js'
import type { Policy } from '../../../src/policy/policy.js'
import type { ApprovalStore } from '../../../src/state/approval-store.js'
import { createMemoryState } from '../../../src/state/gateway-state.js'
import { defineTool, type AnyToolDefinition, type ToolDeps } from '../../../tools/define-tool.js'
import listRequests from '../../../tools/list-requests.js'
import reviewRequest from '../../../tools/review-request.js'
import { policyOf } from '../../policy/policy-fixture.js'

export const NOW = Date.parse('2026-12-01T12:00:00Z')
export const MIN = 60_000
export const ISS = 'https://idp.test'

export function policyWith(approval: Record<string, unknown>, description = 'restart', callsPerMinute?: number): Policy {
  return policyOf({
    version: 1,
    grants: [
      {
        id: 'restart',
        description,
        groups: ['sre'],
        tools: ['restart'],
        ttl: '15m',
        approval: { approverGroups: ['sre-leads'], ...approval } as never,
        ...(callsPerMinute === undefined ? {} : { limits: { callsPerMinute } }),
      },
    ],
  })
}

export function person(subject: string, groups: string[]): Principal {
  return { issuer: ISS, subject, groups, expiresAt: NOW / 1000 + 7200, issuedAt: NOW / 1000 - 60 }
}
export const bob = person('bob', ['sre'])
export const carol = person('carol', ['sre-leads'])

export interface Gateway {
  readonly events: AuditEvent[]
  readonly runs: Record<string, unknown>[]
  readonly approvals: ApprovalService
  call(args: Record<string, unknown>, who?: Principal, policy?: Policy): Promise<CallResult>
  /** A call whose client sent a progressToken. */
  callWaiting(args: Record<string, unknown>, signal: AbortSignal, progress: string[]): Promise<CallResult>
  /** Any registered tool by name (the review tools). */
  callTool(name: string, args: Record<string, unknown>, who: Principal): Promise<CallResult>
  list(who: Principal): string[]
}

export interface Waiting {
  /** Called at each poll, after the clock moved by the poll interval. */
  readonly onPoll: (poll: number) => Promise<void>
  readonly maxMs: number
}

/** `permits` is the tool's check of a grant's constraints (a read grant that does not permit a restart). */
export function gateway(clock: ManualClock, store: ApprovalStore, policy: Policy, waiting?: Waiting, permits?: (grant: { readonly id: string }, args: { readonly deployment: string }) => boolean): Gateway {
  const events: AuditEvent[] = []
  const runs: Record<string, unknown>[] = []
  const audit: AuditSink = { write: async (event) => void events.push(event) }
  const state = createMemoryState(clock)
  const approvals = createApprovalService({ store, audit, clock })
  const tool = defineTool({
    name: 'restart',
    title: 'Restart',
    description: 'Restarts a deployment.',
    connectionKinds: [],
    input: { deployment: z.string(), password: z.string().optional() },
    annotations: () => ({ readOnlyHint: false, destructiveHint: true }),
    ...(permits === undefined ? {} : { permits }),
    handler: async (ctx) => {
      runs.push({ ...ctx.args, ...(permits === undefined ? {} : { grant: ctx.grant.id }) })
      return { text: `restarted ${ctx.args.deployment}` }
    },
  }) as unknown as AnyToolDefinition
  const logError = () => undefined
  const catalog = createToolCatalog([tool, listRequests, reviewRequest])
  const caller = createToolCaller({
    admit: createCallAdmission({ state, subjectLimits: {}, maxSignInAgeMs: 24 * 3600_000 }),
    activations: state.activations,
    catalog,
    deps: { clock } as unknown as ToolDeps,
    audit,
    denials: createAuditSampling({ audit, clock, logError }),
    clock,
    redactArgs: (args) => redactArgs(args),
    logError,
    approvals,
    ...(waiting === undefined
      ? {}
      : {
          approvalWait: {
            maxMs: waiting.maxMs,
            pollMs: 1_000,
            now: () => clock.now(),
            sleep: async (ms: number, signal: AbortSignal) => {
              clock.advance(ms)
              polls++
              await waiting.onPoll(polls)
              if (signal.aborted) throw new Error('cancelled')
            },
          },
        }),
  })
  let polls = 0
  return {
    events,
    runs,
    approvals,
    call: (args, who = bob, callPolicy = policy) =>
      caller({ principal: who, policy: callPolicy, session: { idHash: undefined }, name: 'restart', rawArgs: args, signal: new AbortController().signal, progress: async () => undefined }),
    callWaiting: (args, signal, progress) =>
      caller({ principal: bob, policy, session: { idHash: undefined }, name: 'restart', rawArgs: args, signal, progress: async (u) => void progress.push(u.message ?? ''), wantsProgress: true }),
    callTool: (name, args, who) =>
      caller({ principal: who, policy, session: { idHash: undefined }, name, rawArgs: args, signal: new AbortController().signal, progress: async () => undefined }),
    list: (who) => catalog.list(policy, who, clock.now()).map((t) => t.name),
  }
}

export function text(result: CallResult): string {
  return result.content.map((c) => c.text).join('')
}

export function requestIdOf(result: CallResult): string {
  const id = (result._meta as Record<string, unknown> | undefined)?.[APPROVAL_REQUEST_META_KEY]
  assert.ok(typeof id === 'string', `no request id in ${text(result)}`)
  return id
}

export function ofType(events: readonly AuditEvent[], type: AuditEvent['type']): AuditEvent[] {
  return events.filter((e) => e.type === type)
}

export async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AirlockError && error.code === code, `expected ${code}`)
}

export const ARGS = { deployment: 'payments', approvalReason: 'crash loop since 11:40' }
