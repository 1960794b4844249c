import type { AuditActor, AuditEvent, AuditSink } from '../audit/audit-event.js'
import type { Clock } from '../clock.js'
import { createRecordSampler, type SuppressedCount } from './record-sampler.js'

/** Writes the records that callers can cause in bulk (refused tokens, denied calls) at a bounded rate. */
export interface AuditSampling {
  /**
   * Records a refused token from `client` unless another from it was recorded this window; never
   * throws (a refusal is sent either way).
   */
  authFailure(client: string, event: AuditEvent): Promise<void>
  /**
   * Records a denied call unless one of the same identity (iss + sub) was recorded this window.
   * Resolves whether `event` was written; rejects when the audit write fails.
   */
  denial(actor: AuditActor, event: AuditEvent): Promise<boolean>
  /**
   * Writes one record per client and identity with denials left out and not yet counted:
   * `'ended'` for windows that are over (call it on a timer), `'all'` at shutdown, before the audit
   * log closes. Never throws.
   */
  flush(scope: 'ended' | 'all'): Promise<void>
}

export interface AuditSamplingOptions {
  readonly audit: AuditSink
  readonly clock: Clock
  readonly logError: (message: string, error: unknown) => void
  /** Default 10 s. */
  readonly windowMs?: number
  /** Clients (and, separately, identities) remembered at once; default 10,000. */
  readonly maxKeys?: number
}

/** Field added to a sampled record: occurrences it stands for besides itself. */
export const SUPPRESSED_FIELD = 'suppressedSinceLastRecord'

function identityKey(actor: AuditActor): string {
  return JSON.stringify([actor.iss, actor.sub])
}

/** One sampler per client address for auth failures and one per identity for denials; summaries for what they left out. */
export function createAuditSampling(options: AuditSamplingOptions): AuditSampling {
  const windowMs = options.windowMs ?? 10_000
  const maxKeys = options.maxKeys ?? 10_000
  const clients = createRecordSampler<string>({ clock: options.clock, windowMs, maxKeys })
  const identities = createRecordSampler<AuditActor>({ clock: options.clock, windowMs, maxKeys })

  const withCount = (event: AuditEvent, suppressed: number): AuditEvent =>
    suppressed > 0 ? { ...event, detail: { ...event.detail, [SUPPRESSED_FIELD]: suppressed } } : event
  const clientSummary = (count: SuppressedCount<string>): AuditEvent => ({ type: 'auth.failure', client: count.subject, reason: 'sampled', detail: { [SUPPRESSED_FIELD]: count.suppressed } })
  const identitySummary = (count: SuppressedCount<AuditActor>): AuditEvent => ({
    type: 'tools.call',
    actor: count.subject,
    decision: 'deny',
    outcome: 'denied',
    reason: 'sampled',
    detail: { [SUPPRESSED_FIELD]: count.suppressed },
  })

  async function writeSummaries(events: readonly AuditEvent[]): Promise<void> {
    for (const event of events) {
      try {
        await options.audit.write(event)
      } catch (error) {
        options.logError(`audit write failed for a sampled-records summary (${JSON.stringify(event.detail)})`, error)
      }
    }
  }

  return {
    async authFailure(client, event) {
      const admission = clients.admit(client, client)
      await writeSummaries(admission.due.map(clientSummary))
      if (!admission.record) return
      try {
        await options.audit.write(withCount(event, admission.suppressed))
      } catch (error) {
        options.logError('audit write failed for auth failure', error)
      }
    },
    async denial(actor, event) {
      const admission = identities.admit(identityKey(actor), actor)
      await writeSummaries(admission.due.map(identitySummary))
      if (!admission.record) return false
      await options.audit.write(withCount(event, admission.suppressed))
      return true
    },
    async flush(scope) {
      await writeSummaries([...clients.drain(scope).map(clientSummary), ...identities.drain(scope).map(identitySummary)])
    },
  }
}
