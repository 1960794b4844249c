import { randomHex } from '../random-hex.js'
import {
  APPROVAL_RETENTION_MS,
  bindingKey,
  effectiveState,
  type ApprovalRecord,
  type ApprovalState,
  type ApprovalStore,
} from './approval-store.js'

/**
 * A request id: 18 random bytes as hex, safe in URLs and on command lines. Not base64url: one id
 * in 64 would begin with `-` and read as an option to `airlock approvals approve <id>`.
 */
export function newApprovalId(): string {
  return randomHex(18)
}

/** The instant after which a record may be dropped. */
export function keepUntil(record: Pick<ApprovalRecord, 'pendingUntil' | 'accessUntil'>): number {
  return Math.max(record.pendingUntil, record.accessUntil ?? 0) + APPROVAL_RETENTION_MS
}

/** Approval requests in this process's memory: for a single gateway (and the sandbox). */
export function createMemoryApprovalStore(): ApprovalStore {
  const records = new Map<string, ApprovalRecord>()
  const byBinding = new Map<string, string>()

  function set(record: ApprovalRecord): ApprovalRecord {
    records.set(record.id, record)
    return record
  }

  function mark(record: ApprovalRecord, state: ApprovalState, extra: Partial<ApprovalRecord> = {}): ApprovalRecord {
    return set({ ...record, ...extra, state })
  }

  function drop(now: number): void {
    for (const [id, record] of records) {
      if (keepUntil(record) > now) continue
      records.delete(id)
      const key = bindingKey(record.binding)
      if (byBinding.get(key) === id) byBinding.delete(key)
    }
  }

  return {
    async open(ask, now) {
      drop(now)
      const key = bindingKey(ask.binding)
      const id = byBinding.get(key)
      const current = id === undefined ? undefined : records.get(id)
      const expired: ApprovalRecord[] = []
      if (current !== undefined) {
        const state = effectiveState(current, now)
        if (state === 'pending' || state === 'approved' || state === 'denied') return { record: current, created: false, expired }
        if (state === 'expired' && current.state !== 'expired') expired.push(mark(current, 'expired'))
      }
      const record = set({ ...ask, id: newApprovalId(), state: 'pending', createdAt: now, pendingUntil: now + ask.pendingMs })
      byBinding.set(key, record.id)
      return { record, created: true, expired }
    },
    async decide(id, state, decision) {
      const current = records.get(id)
      if (current === undefined) return { ok: false, reason: 'NOT_FOUND' }
      const now = decision.at
      const effective = effectiveState(current, now)
      if (effective !== 'pending') {
        const expiredNow = effective === 'expired' && current.state !== 'expired'
        return { ok: false, reason: 'NOT_PENDING', record: expiredNow ? mark(current, 'expired') : current, expiredNow }
      }
      const accessUntil = state === 'approved' ? { accessUntil: now + current.accessMs } : {}
      return { ok: true, record: mark(current, state, { decision, ...accessUntil }) }
    },
    async consume(id, now) {
      const current = records.get(id)
      if (current === undefined || effectiveState(current, now) !== 'approved') return { ok: false, record: current }
      return { ok: true, record: current.use === 'once' ? mark(current, 'used', { usedAt: now }) : current }
    },
    async get(id) {
      return records.get(id)
    },
    async pending(now) {
      drop(now)
      const expired: ApprovalRecord[] = []
      const pending: ApprovalRecord[] = []
      for (const record of records.values()) {
        if (record.state !== 'pending') continue
        if (effectiveState(record, now) === 'expired') expired.push(mark(record, 'expired'))
        else pending.push(record)
      }
      pending.sort((a, b) => a.createdAt - b.createdAt)
      return { pending, expired }
    },
  }
}
