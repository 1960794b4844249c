import { staleness, type EndedSession, type SessionLimits, type SessionStore, type StoredSession } from './session-store.js'

/** Sessions in this process's memory: one node, or the sandbox. */
export function createMemorySessionStore(limits: SessionLimits): SessionStore {
  const sessions = new Map<string, StoredSession>()
  const bySubject = new Map<string, Set<string>>()
  const subjectKey = (issuer: string, subject: string) => `${issuer}\u0000${subject}`

  function remove(idHash: string): StoredSession | undefined {
    const session = sessions.get(idHash)
    if (session === undefined) return undefined
    sessions.delete(idHash)
    const key = subjectKey(session.issuer, session.subject)
    const ids = bySubject.get(key)
    ids?.delete(idHash)
    if (ids?.size === 0) bySubject.delete(key)
    return session
  }

  function liveCount(now: number): number {
    let live = 0
    for (const session of sessions.values()) if (staleness(session, now, limits.idleTimeoutMs) === undefined) live++
    return live
  }

  return {
    async open(session, now) {
      // Lapsed sessions wait for the sweep (which records their end) but take no place.
      if (sessions.size >= limits.maxTotal && liveCount(now) >= limits.maxTotal) return { ok: false }
      const key = subjectKey(session.issuer, session.subject)
      let ids = bySubject.get(key)
      if (ids === undefined) {
        ids = new Set()
        bySubject.set(key, ids)
      }
      const evicted: StoredSession[] = []
      // Sets iterate in insertion order: the first ids are the subject's oldest sessions.
      while (ids.size >= limits.maxPerSubject) {
        const oldest = ids.values().next().value
        if (oldest === undefined) break
        const removed = remove(oldest)
        if (removed !== undefined) evicted.push(removed)
      }
      sessions.set(session.idHash, session)
      ids.add(session.idHash)
      return { ok: true, evicted }
    },
    async touch(idHash, issuer, subject, now) {
      const session = sessions.get(idHash)
      if (session === undefined) return { ok: false, reason: 'unknown' }
      if (session.issuer !== issuer || session.subject !== subject) return { ok: false, reason: 'wrong_subject' }
      const stale = staleness(session, now, limits.idleTimeoutMs)
      if (stale !== undefined) {
        remove(idHash)
        return { ok: false, reason: stale, session }
      }
      const touched = { ...session, lastSeenAt: now }
      sessions.set(idHash, touched)
      return { ok: true, session: touched }
    },
    async end(idHash) {
      return remove(idHash)
    },
    async sweep(now, max) {
      const ended: EndedSession[] = []
      for (const session of sessions.values()) {
        if (ended.length >= max) break
        const reason = staleness(session, now, limits.idleTimeoutMs)
        if (reason !== undefined) ended.push({ session, reason })
      }
      for (const { session } of ended) remove(session.idHash)
      return ended
    },
    async count(now) {
      return liveCount(now)
    },
  }
}
