/** Every kind of record the audit trail holds. */
export type AuditEventType =
  | 'auth.failure'
  | 'session.start'
  | 'session.end'
  | 'session.rejected'
  | 'tools.list'
  | 'tools.call'
  /** Written and flushed before a tool that reaches AWS runs; its `tools.call` (same correlationId) is the outcome. */
  | 'tools.intent'
  /**
   * A subject's access period under a grant began with this call (`correlationId`): `detail` has
   * activatedAt, expiresAt, signedInAt, source and whether it renewed an ended period.
   */
  | 'grant.activated'
  /**
   * Approval requests, one record per transition: `detail.requestId`, the requester and (once
   * decided) the approver with their reasons; `argsHash` binds each to the exact call.
   */
  | 'approval.requested'
  | 'approval.approved'
  | 'approval.denied'
  | 'approval.expired'
  | 'approval.used'
  | 'policy.reload'
  | 'policy.reload_failed'
  | 'gateway.start'
  | 'gateway.stop'
  /** A torn final line (crash or failed write) was moved aside at start; `detail` says where. */
  | 'audit.repaired'
  /** The log file was deleted, moved or replaced under the gateway; first record of the new file. */
  | 'audit.reopened'
  /** Writes succeed again after an I/O failure; `detail` says how long and how many were refused. */
  | 'audit.recovered'

/** Who an event is about; absent for auth failures (no verified identity). */
export interface AuditActor {
  readonly iss: string
  readonly sub: string
  readonly groups: readonly string[]
  readonly email?: string
}

/** An audit record before the log adds `seq`, `ts` and the hash chain. */
export interface AuditEvent {
  readonly type: AuditEventType
  readonly actor?: AuditActor
  /** SHA-256 of the session id (the id itself is a bearer secret). */
  readonly session?: string
  readonly tool?: string
  readonly connection?: string
  /** The grant that allowed the action (rule 7: recorded for every decision). */
  readonly grantId?: string
  /** Fingerprint of the policy the decision was made under (Policy.fingerprint); also on policy.reload. */
  readonly policyFingerprint?: string
  readonly decision?: 'allow' | 'deny'
  /** Deny reason or outcome error code. */
  readonly code?: string
  readonly reason?: string
  readonly args?: Record<string, unknown>
  /** SHA-256 (hex) of the canonical JSON of the validated arguments; pairs an intent with its outcome. */
  readonly argsHash?: string
  readonly outcome?: 'ok' | 'error' | 'denied'
  readonly durationMs?: number
  /** UTF-8 bytes of the text content the caller received (tools.call outcomes). */
  readonly resultBytes?: number
  readonly correlationId?: string
  readonly client?: string
  readonly detail?: Record<string, unknown>
}

/** Port: append a record durably; resolves only once it is on disk. */
export interface AuditSink {
  write(event: AuditEvent): Promise<void>
}
