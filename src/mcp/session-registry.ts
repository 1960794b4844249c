import type { Clock } from '../clock.js'

/** What the registry needs of a live MCP session. */
export interface SessionHandle {
  /** Closes the transport and server; must be idempotent. */
  close(): Promise<void>
}

export interface SessionRecord<H extends SessionHandle = SessionHandle> {
  readonly id: string
  readonly issuer: string
  readonly subject: string
  readonly createdAt: number
  lastSeenAt: number
  /** Epoch ms: the session's absolute limit (grant time is kept per activation, not per session). */
  expiresAt: number
  readonly handle: H
}

export type SessionEndReason = 'expired' | 'idle' | 'deleted' | 'evicted' | 'shutdown'

export interface SessionRegistryOptions {
  readonly clock: Clock
  readonly idleTimeoutMs: number
  readonly maxPerSubject: number
  readonly maxTotal: number
  readonly onEnd: (session: SessionRecord, reason: SessionEndReason) => void
}

export type LookupResult<H extends SessionHandle> =
  | { readonly ok: true; readonly session: SessionRecord<H> }
  | { readonly ok: false; readonly reason: 'unknown' | 'wrong_subject' | 'expired' | 'idle' }

/**
 * Live sessions, each bound to the (issuer, subject) that initialized it. A lookup by another
 * subject is indistinguishable from an unknown id for the caller.
 */
export interface SessionRegistry<H extends SessionHandle> {
  /** Registers a session; evicts the subject's oldest sessions beyond the cap. Returns false when full. */
  add(session: SessionRecord<H>): boolean
  lookup(id: string, issuer: string, subject: string): LookupResult<H>
  end(id: string, reason: SessionEndReason): Promise<void>
  /** Ends every session past its expiry or idle limit. */
  sweep(): Promise<void>
  closeAll(): Promise<void>
  readonly size: number
  all(): IterableIterator<SessionRecord<H>>
}

export function createSessionRegistry<H extends SessionHandle>(options: SessionRegistryOptions): SessionRegistry<H> {
  const sessions = new Map<string, SessionRecord<H>>()
  const bySubject = new Map<string, Set<string>>()
  const subjectKey = (issuer: string, subject: string) => `${issuer}\u0000${subject}`

  function staleness(session: SessionRecord<H>, now: number): 'expired' | 'idle' | undefined {
    if (now >= session.expiresAt) return 'expired'
    if (now - session.lastSeenAt >= options.idleTimeoutMs) return 'idle'
    return undefined
  }

  async function end(id: string, reason: SessionEndReason): Promise<void> {
    const session = sessions.get(id)
    if (session === undefined) return
    sessions.delete(id)
    const key = subjectKey(session.issuer, session.subject)
    const ids = bySubject.get(key)
    ids?.delete(id)
    if (ids?.size === 0) bySubject.delete(key)
    options.onEnd(session, reason)
    await session.handle.close()
  }

  return {
    add(session) {
      if (sessions.size >= options.maxTotal) return false
      const key = subjectKey(session.issuer, session.subject)
      let ids = bySubject.get(key)
      if (ids === undefined) {
        ids = new Set()
        bySubject.set(key, ids)
      }
      // Sets iterate in insertion order: the first ids are the subject's oldest sessions.
      while (ids.size >= options.maxPerSubject) {
        const oldest = ids.values().next().value
        if (oldest === undefined) break
        void end(oldest, 'evicted')
      }
      sessions.set(session.id, session)
      ids.add(session.id)
      return true
    },
    lookup(id, issuer, subject) {
      const session = sessions.get(id)
      if (session === undefined) return { ok: false, reason: 'unknown' }
      if (session.issuer !== issuer || session.subject !== subject) return { ok: false, reason: 'wrong_subject' }
      const now = options.clock.now()
      const stale = staleness(session, now)
      if (stale !== undefined) {
        void end(id, stale)
        return { ok: false, reason: stale }
      }
      session.lastSeenAt = now
      return { ok: true, session }
    },
    end,
    async sweep() {
      const now = options.clock.now()
      const stale: Promise<void>[] = []
      for (const session of sessions.values()) {
        const reason = staleness(session, now)
        if (reason !== undefined) stale.push(end(session.id, reason))
      }
      await Promise.all(stale)
    },
    async closeAll() {
      await Promise.all([...sessions.keys()].map((id) => end(id, 'shutdown')))
    },
    get size() {
      return sessions.size
    },
    all: () => sessions.values(),
  }
}
