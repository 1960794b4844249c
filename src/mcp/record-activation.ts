import type { Principal } from '../auth/principal.js'
import type { AuditSink } from '../audit/audit-event.js'
import type { Activation, ActivationStore } from '../state/activation-store.js'
import type { CallRecordBase } from './call-record.js'

function activationDetail(activation: Activation, renewed: boolean, late: boolean): Record<string, unknown> {
  const iso = (ms: number) => new Date(ms).toISOString()
  return {
    activatedAt: iso(activation.activatedAt),
    expiresAt: iso(activation.expiresAt),
    signedInAt: iso(activation.signedInAt),
    source: activation.source,
    renewed,
    ...(late ? { late: true } : {}),
  }
}

export interface ActivationToRecord {
  readonly activation: Activation | undefined
  readonly started: boolean
  readonly renewed: boolean
}

/**
 * No tool runs under an access period without its `grant.activated` record. The call that starts
 * a period writes it, then marks the period recorded; if the write fails the call is refused and
 * the period stays unrecorded, so the next call under it writes the record (`late: true`) before
 * its tool runs. Throws when the audit write fails (the caller refuses the call). A failed mark
 * is only logged: the record exists, and the worst outcome is a second copy of it.
 */
export async function recordActivation(
  admission: ActivationToRecord,
  event: { readonly base: CallRecordBase; readonly grantId: string; readonly principal: Principal },
  deps: { readonly audit: AuditSink; readonly activations: Pick<ActivationStore, 'markRecorded'>; readonly logError: (message: string, error: unknown) => void },
): Promise<void> {
  const { activation } = admission
  if (activation === undefined || (!admission.started && activation.recorded)) return
  await deps.audit.write({ ...event.base, type: 'grant.activated', grantId: event.grantId, detail: activationDetail(activation, admission.renewed, !admission.started) })
  const key = { issuer: event.principal.issuer, subject: event.principal.subject, grantId: event.grantId }
  await deps.activations.markRecorded(key, activation.activatedAt).catch((error: unknown) => {
    deps.logError(`the grant.activated record of ${event.grantId} was written but not marked in the state store; the next call writes it again`, error)
  })
}
