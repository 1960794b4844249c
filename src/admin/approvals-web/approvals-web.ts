import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ApprovalService } from '../../approvals/approval-service.js'
import { requestView } from '../../approvals/request-view.js'
import type { Clock } from '../../clock.js'
import { AirlockError } from '../../errors.js'
import { readBody } from '../../mcp/read-body.js'
import { APPROVER_GRANT_ID } from '../../policy/approver-grant.js'
import { grantMatchesIdentity } from '../../policy/grant-matches.js'
import type { Policy } from '../../policy/policy.js'
import { APPROVAL_REFUSALS } from '../approval-routes.js'
import { APPROVALS_CSS, continuePage, listPage, messagePage } from './approvals-page.js'
import { codeChallengeOf, type SignInClient } from './oidc-sign-in.js'
import type { WebSession, WebSessions } from './web-sessions.js'

export interface ApprovalsWebOptions {
  readonly service: ApprovalService
  readonly policy: () => Policy
  readonly signIn: SignInClient
  readonly sessions: WebSessions
  /** The registered redirect URL; its origin is the page's origin (cookies, Origin check). */
  readonly redirectUrl: string
  readonly clock: Clock
  readonly logError: (message: string, error: unknown) => void
}

export const SESSION_COOKIE = 'airlock_approvals'
export const SIGN_IN_COOKIE = 'airlock_approvals_signin'

/** Sent with every response of the page: no script at all, styles from this origin only, never framed. */
export const APPROVALS_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
}

const MAX_FORM_BYTES = 4 * 1024
const WEB_PATHS = new Set(['/approvals', '/approvals/', '/approvals/style.css', '/approvals/sign-in', '/approvals/callback', '/approvals/decide', '/approvals/sign-out'])

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}, type = 'text/html; charset=utf-8'): void {
  res.writeHead(status, { ...APPROVALS_SECURITY_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers })
  res.end(body)
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function sameToken(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)]
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * The approvers' web page under `/approvals`: sign-in at the gateway's issuer (code + PKCE,
 * state, nonce), a server-side session behind an HttpOnly SameSite=Strict cookie, the pending
 * requests this person may decide, and approve/deny forms that go through the same approval
 * service as the API (no self-approval, approver group at decision time, reason required).
 * Returns false for paths that are not the page's.
 */
export function createApprovalsWeb(options: ApprovalsWebOptions): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> {
  const origin = new URL(options.redirectUrl).origin
  const secure = new URL(options.redirectUrl).protocol === 'https:' ? '; Secure' : ''
  const cookie = (name: string, value: string, maxAgeSeconds: number, sameSite: 'Strict' | 'Lax') =>
    `${name}=${value}; Path=/approvals; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAgeSeconds}${secure}`

  function session(req: IncomingMessage): WebSession | undefined {
    const id = readCookie(req, SESSION_COOKIE)
    return id === undefined ? undefined : options.sessions.get(id)
  }

  // Forms post with Referrer-Policy no-referrer, which makes browsers send `Origin: null`; then
  // the Fetch Metadata header tells a same-origin form from a cross-site one.
  function sameOrigin(req: IncomingMessage): boolean {
    const claimed = req.headers.origin
    if (claimed !== undefined && claimed !== 'null') return claimed === origin
    return req.headers['sec-fetch-site'] === 'same-origin'
  }

  async function form(req: IncomingMessage): Promise<URLSearchParams | undefined> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return undefined
    const body = await readBody(req, MAX_FORM_BYTES)
    return body.ok ? new URLSearchParams(body.text) : undefined
  }

  async function list(res: ServerResponse, current: WebSession): Promise<void> {
    const policy = options.policy()
    const grant = policy.grants.find((g) => g.id === APPROVER_GRANT_ID)
    const approver = grant !== undefined && grantMatchesIdentity(grant, current.principal)
    const now = options.clock.now()
    const requests = approver ? (await options.service.list(current.principal, policy)).map((r) => requestView(r, now)) : []
    const notice = current.notice
    current.notice = undefined
    const who = current.principal.email ?? current.principal.subject
    send(res, 200, listPage({ who, csrf: current.csrf, requests, notice, approver }))
  }

  async function signIn(res: ServerResponse): Promise<void> {
    const pending = options.sessions.startSignIn()
    let location: string
    try {
      location = await options.signIn.authorizationUrl({ state: pending.state, nonce: pending.nonce, codeChallenge: codeChallengeOf(pending.codeVerifier) })
    } catch (error) {
      options.logError('approvals sign-in could not start', error)
      return send(res, 503, messagePage('Sign-in unavailable', 'The identity provider cannot be reached right now; retry shortly.'), { 'retry-after': '5' })
    }
    // Lax, not Strict: the IdP's redirect back is a cross-site top-level navigation.
    send(res, 303, '', { location, 'set-cookie': cookie(SIGN_IN_COOKIE, pending.state, 600, 'Lax') })
  }

  async function callback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', origin).searchParams
    const state = query.get('state') ?? ''
    const bound = readCookie(req, SIGN_IN_COOKIE)
    const clear = cookie(SIGN_IN_COOKIE, '', 0, 'Lax')
    // The state must be the one this browser was sent off with, and still pending here.
    const pending = bound !== undefined && state !== '' && sameToken(bound, state) ? options.sessions.takeSignIn(state) : undefined
    if (pending === undefined) return send(res, 400, messagePage('Sign-in refused', 'This sign-in response does not belong to a sign-in started in this browser (or it is stale). Start again.'), { 'set-cookie': clear })
    const code = query.get('code')
    if (code === null || code === '') return send(res, 400, messagePage('Sign-in refused', 'The identity provider did not sign you in.'), { 'set-cookie': clear })
    let current: WebSession
    try {
      const principal = await options.signIn.redeem({ code, codeVerifier: pending.codeVerifier, nonce: pending.nonce, iss: query.get('iss') ?? undefined })
      current = options.sessions.create(principal)
    } catch (error) {
      options.logError('approvals sign-in failed', error)
      return send(res, 401, messagePage('Sign-in failed', 'The identity provider\'s answer could not be verified. Start again.'), { 'set-cookie': clear })
    }
    const maxAge = Math.max(1, Math.floor((current.expiresAt - options.clock.now()) / 1000))
    send(res, 200, continuePage(), { 'set-cookie': [clear, cookie(SESSION_COOKIE, current.id, maxAge, 'Strict')] })
  }

  async function post(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const current = session(req)
    if (current === undefined) return send(res, 401, messagePage('Not signed in', 'Your session has ended. Sign in again.'))
    const fields = sameOrigin(req) ? await form(req) : undefined
    const csrf = fields?.get('csrf') ?? ''
    if (fields === undefined || csrf === '' || !sameToken(csrf, current.csrf)) {
      return send(res, 403, messagePage('Request refused', 'This form did not come from this page. Reload the approvals page and try again.'))
    }
    if (path === '/approvals/sign-out') {
      options.sessions.delete(current.id)
      return send(res, 200, messagePage('Signed out', 'You are signed out of the approvals page.'), { 'set-cookie': cookie(SESSION_COOKIE, '', 0, 'Strict') })
    }
    const id = fields.get('id') ?? ''
    const verdict = fields.get('verdict')
    const reason = (fields.get('reason') ?? '').trim()
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id) || (verdict !== 'approve' && verdict !== 'deny') || reason === '' || reason.length > 500) {
      current.notice = APPROVAL_REFUSALS.INPUT_INVALID?.[1] ?? 'A decision needs a reason.'
      return send(res, 303, '', { location: '/approvals' })
    }
    try {
      await options.service.decide(current.principal, options.policy(), id, verdict, reason)
      current.notice = `${verdict === 'approve' ? 'Approved' : 'Denied'} request ${id}.`
    } catch (error) {
      const known = error instanceof AirlockError ? APPROVAL_REFUSALS[error.code] : undefined
      if (known === undefined) throw error
      if (known[0] === 503) options.logError(`approvals decision on ${id} failed`, error)
      current.notice = `Request ${id} was not decided: ${known[1]}`
    }
    send(res, 303, '', { location: '/approvals' })
  }

  return async function approvalsWeb(req, res, path) {
    if (!WEB_PATHS.has(path)) return false
    const method = req.method ?? 'GET'
    const isPost = path === '/approvals/decide' || path === '/approvals/sign-out'
    if (isPost ? method !== 'POST' : method !== 'GET') {
      send(res, 405, messagePage('Method not allowed', 'This address does not take that method.'), { allow: isPost ? 'POST' : 'GET' })
      return true
    }
    if (path === '/approvals/style.css') send(res, 200, APPROVALS_CSS, {}, 'text/css; charset=utf-8')
    else if (path === '/approvals/sign-in') await signIn(res)
    else if (path === '/approvals/callback') await callback(req, res)
    else if (isPost) await post(req, res, path)
    else {
      const current = session(req)
      if (current === undefined) send(res, 303, '', { location: '/approvals/sign-in' })
      else await list(res, current)
    }
    return true
  }
}
