import type { Principal } from '../../auth/principal.js'
import type { Clock } from '../../clock.js'
import { randomToken } from './oidc-sign-in.js'

/** A signed-in approver, kept on the server; the browser holds only the random id. */
export interface WebSession {
  readonly id: string
  readonly principal: Principal
  /** Sent back in every form; a POST without it is refused. */
  readonly csrf: string
  readonly expiresAt: number
  /** One line shown on the next page (the outcome of the last decision), then cleared. */
  notice?: string | undefined
}

/** A sign-in under way: what the callback must match. */
export interface PendingSignIn {
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: string
  readonly expiresAt: number
}

export interface WebSessions {
  startSignIn(): PendingSignIn
  /** The pending sign-in for `state`, removed so a callback works once; undefined when unknown or stale. */
  takeSignIn(state: string): PendingSignIn | undefined
  /** A session for `principal`, ending at `lifetimeMs` or when its token expires, whichever comes first. */
  create(principal: Principal): WebSession
  get(id: string): WebSession | undefined
  delete(id: string): void
}

export interface WebSessionsOptions {
  readonly clock: Clock
  readonly lifetimeMs: number
  /** How long the IdP's login page may stay open. */
  readonly signInMs?: number
  /** Most sessions and most pending sign-ins held; the oldest goes first. */
  readonly max?: number
}

/** In-memory sessions of this listener (each replica its own: its cookie names its own origin). */
export function createWebSessions(options: WebSessionsOptions): WebSessions {
  const { clock } = options
  const max = options.max ?? 10_000
  const sessions = new Map<string, WebSession>()
  const signIns = new Map<string, PendingSignIn>()

  function bounded<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= max) {
      const oldest = map.keys().next()
      if (oldest.done !== true) map.delete(oldest.value)
    }
    map.set(key, value)
  }

  return {
    startSignIn() {
      const pending = { state: randomToken(), nonce: randomToken(), codeVerifier: randomToken(), expiresAt: clock.now() + (options.signInMs ?? 600_000) }
      bounded(signIns, pending.state, pending)
      return pending
    },
    takeSignIn(state) {
      const pending = signIns.get(state)
      signIns.delete(state)
      return pending !== undefined && pending.expiresAt > clock.now() ? pending : undefined
    },
    create(principal) {
      const expiresAt = Math.min(clock.now() + options.lifetimeMs, principal.expiresAt * 1000)
      const session: WebSession = { id: randomToken(), principal, csrf: randomToken(), expiresAt }
      bounded(sessions, session.id, session)
      return session
    },
    get(id) {
      const session = sessions.get(id)
      if (session === undefined) return undefined
      if (session.expiresAt <= clock.now()) {
        sessions.delete(id)
        return undefined
      }
      return session
    },
    delete(id) {
      sessions.delete(id)
    },
  }
}
