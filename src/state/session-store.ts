/**
 * A 2025-lane protocol session as every replica sees it: who it is bound to and when it lapses.
 * The id is a bearer secret and is kept only as its hash; nothing here lives in one process.
 */
export interface StoredSession {
  /** `hashSessionId(id)`: the only form of the id that is stored. */
  readonly idHash: string
  readonly issuer: string
  readonly subject: string
  /** Epoch ms. */
  readonly createdAt: number
  /** Epoch ms of the last request in the session. */
  readonly lastSeenAt: number
  /** Epoch ms: the session's absolute limit, whatever its activity. */
  readonly expiresAt: number
}

/** `refused`: its initialize request was refused after the session had been opened. */
export type SessionEndReason = 'expired' | 'idle' | 'deleted' | 'evicted' | 'shutdown' | 'refused'

export interface EndedSession {
  readonly session: StoredSession
  readonly reason: SessionEndReason
}

export type OpenResult = { readonly ok: true; readonly evicted: readonly StoredSession[] } | { readonly ok: false }

export type TouchResult =
  | { readonly ok: true; readonly session: StoredSession }
  | { readonly ok: false; readonly reason: 'unknown' | 'wrong_subject' }
  /** The session had lapsed: it is gone now, and the caller records its end. */
  | { readonly ok: false; readonly reason: 'expired' | 'idle'; readonly session: StoredSession }

export interface SessionLimits {
  readonly idleTimeoutMs: number
  readonly maxPerSubject: number
  readonly maxTotal: number
}

/**
 * Where the sessions of the 2025 lane live: process memory for one node, Redis for replicas. Every
 * operation is atomic across replicas, so a session opened through one replica is continued,
 * deleted or evicted through any other. Methods reject with `StateError('STATE_UNAVAILABLE')`
 * when the backend cannot answer (the caller refuses the request).
 */
export interface SessionStore {
  /**
   * Adds a session; the subject's oldest sessions beyond `maxPerSubject` are evicted (and
   * returned, for their audit record). `ok: false` when `maxTotal` live sessions exist.
   */
  open(session: StoredSession, now: number): Promise<OpenResult>
  /** The caller's live session with this id hash, its last-seen time moved to `now`; another subject's reads as `wrong_subject`. */
  touch(idHash: string, issuer: string, subject: string, now: number): Promise<TouchResult>
  /** Removes a session; undefined when there was none. */
  end(idHash: string): Promise<StoredSession | undefined>
  /**
   * Removes up to `max` sessions past their absolute or idle limit and returns them; with several
   * replicas sweeping, each lapsed session is returned to exactly one.
   */
  sweep(now: number, max: number): Promise<EndedSession[]>
  /** Live sessions (not yet lapsed at `now`). */
  count(now: number): Promise<number>
}

/** Epoch ms at which a session lapses unless it is used again: its absolute or its idle limit. */
export function sessionDeadline(session: Pick<StoredSession, 'lastSeenAt' | 'expiresAt'>, idleTimeoutMs: number): number {
  return Math.min(session.expiresAt, session.lastSeenAt + idleTimeoutMs)
}

/** Why a session is no longer usable at `now`, or undefined while it is. */
export function staleness(session: StoredSession, now: number, idleTimeoutMs: number): 'expired' | 'idle' | undefined {
  if (now >= session.expiresAt) return 'expired'
  if (now - session.lastSeenAt >= idleTimeoutMs) return 'idle'
  return undefined
}
