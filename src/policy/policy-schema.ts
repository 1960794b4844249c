import { z } from 'zod'
import { connectionSchema } from './connection-schema.js'
import { kubectlConstraintsSchema } from './kubectl-constraints.js'
import { outputDetectorsSchema } from './output-detectors.js'
import { sqlConstraintsSchema } from './sql-constraints.js'
import { ssmConstraintsSchema } from './ssm-constraints.js'

export const DEFAULT_TTL_SECONDS = 15 * 60
export const MAX_TTL_SECONDS = 12 * 60 * 60

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a lowercase id (a-z, 0-9, ".", "_", "-")')
const toolName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a tool name such as "sql_query"')

/** An OAuth scope token (RFC 6749 §3.3): printable ASCII without space, `"` or `\`. */
export const scopeTokenSchema = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, 'expected an OAuth scope such as "airlock.sql" (no spaces, quotes or backslashes)')
  .refine((scope) => scope !== 'offline_access', 'offline_access asks for a refresh token; it is never a scope a tool needs')

/** "90s", "15m", "2h" → seconds; at most 12 h. */
export const durationSchema = z
  .string()
  .regex(/^[1-9]\d{0,5}(s|m|h)$/, 'expected a duration such as "15m", "90s" or "2h"')
  .transform((s) => Number(s.slice(0, -1)) * ({ s: 1, m: 60, h: 3600 } as const)[s.at(-1) as 's' | 'm' | 'h'])
  .refine((seconds) => seconds <= MAX_TTL_SECONDS, 'at most 12h')

export const DEFAULT_PENDING_TTL_SECONDS = 10 * 60

const approvalCommon = {
  /** Members of any of these groups (from their own token's groups claim) may approve or deny. */
  approverGroups: z.array(z.string().min(1)).min(1),
  /** How long a request may wait for a decision before it expires. */
  pendingTtl: durationSchema.default(DEFAULT_PENDING_TTL_SECONDS),
  /** The agent must say why (argument `approvalReason`) before a request is made. */
  reasonRequired: z.boolean().default(false),
}

/** An approval buys one run of exactly the approved call. */
export const onceApprovalSchema = z.strictObject({ ...approvalCommon, use: z.literal('once').default('once') })

/** An approval buys a window in which the same call (same tool, connection and canonical arguments) may run again. */
export const windowApprovalSchema = z.strictObject({ ...approvalCommon, use: z.literal('window'), accessTtl: durationSchema })

/** A human in one of `approverGroups` approves each call under this grant first. */
export const approvalSchema = z.union([windowApprovalSchema, onceApprovalSchema])

/** Per subject under one grant: calls per sliding minute and calls in flight; absent means no limit of the grant's own. */
export const grantLimitsSchema = z.strictObject({
  callsPerMinute: z.number().int().min(1).max(10_000).optional(),
  concurrentCalls: z.number().int().min(1).max(1_000).optional(),
})

export const grantSchema = z
  .strictObject({
    id,
    description: z.string().max(500).optional(),
    /** Any of these groups (from the token's groups claim) … */
    groups: z.array(z.string().min(1)).default([]),
    /** … or any of these exact subjects (`sub`). */
    subjects: z.array(z.string().min(1)).default([]),
    /** Connection ids this grant reaches; empty for tools that use no connection. */
    connections: z.array(id).default([]),
    tools: z.array(toolName).min(1),
    /** How long a subject's access period under this grant lasts, from their first call under it. */
    ttl: durationSchema.default(DEFAULT_TTL_SECONDS),
    /** The grant stops working at this instant (ISO 8601). */
    notAfter: z.iso.datetime({ offset: true }).optional(),
    approval: approvalSchema.optional(),
    limits: grantLimitsSchema.optional(),
    sql: sqlConstraintsSchema.optional(),
    ssm: ssmConstraintsSchema.optional(),
    kubectl: kubectlConstraintsSchema.optional(),
    /** Value detectors over every tool's output; all on when absent. */
    detectors: outputDetectorsSchema.optional(),
  })
  .refine((g) => g.groups.length > 0 || g.subjects.length > 0, {
    message: 'a grant needs at least one group or subject',
  })

/** One policy file as people write it. */
export const policyFileSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  connections: z.record(id, connectionSchema).default({}),
  grants: z.array(grantSchema).default([]),
  /**
   * OAuth scopes a token must carry (all of them) to call a tool, by tool name; on top of the
   * grants, never instead of them. A tool not listed needs no scope.
   */
  toolScopes: z.record(toolName, z.array(scopeTokenSchema).min(1).max(16)).default({}),
})

export type PolicyFileInput = z.input<typeof policyFileSchema>
export type PolicyFile = z.infer<typeof policyFileSchema>
export type Grant = z.infer<typeof grantSchema>
export type GrantCallLimits = z.infer<typeof grantLimitsSchema>
export type GrantApproval = z.infer<typeof approvalSchema>
