import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { codeChallengeOf, type SignInClient } from '../../../src/admin/approvals-web/oidc-sign-in.js'
import { createWebSessions } from '../../../src/admin/approvals-web/web-sessions.js'
import { createApprovalService, type ApprovalService } from '../../../src/approvals/approval-service.js'
import type { Principal } from '../../../src/auth/principal.js'
import { startAdminServer, type AdminServer } from '../../../src/cli/start-admin-server.js'
import { createManualClock } from '../../../src/clock.js'
import { hashArgs } from '../../../src/mcp/hash-args.js'
import { createMemoryApprovalStore } from '../../../src/state/memory-approval-store.js'
import { policyOf } from '../../policy/policy-fixture.js'
import { alterTail } from '../../support/alter.js'

// The approvals page on a real admin listener; the identity provider is the one port replaced:
// it hands out one code per person and checks the PKCE verifier and nonce like a real one.

const clock = createManualClock(Date.UTC(2026, 0, 1, 12))
const policy = policyOf({
  version: 1,
  grants: [{ id: 'restart', groups: ['sre'], tools: ['whoami'], approval: { approverGroups: ['sre-leads'] } }],
})
const person = (subject: string, groups: string[]): Principal => ({ issuer: 'https://idp.test', subject, groups, expiresAt: clock.now() / 1000 + 600 })
const people: Record<string, Principal> = { carol: person('carol', ['sre-leads']), bob: person('bob', ['sre']), dana: person('dana', ['sre', 'sre-leads']) }

const issued = new Map<string, { challenge: string; nonce: string }>()
const signIn: SignInClient = {
  async authorizationUrl({ state, nonce, codeChallenge }) {
    issued.set(state, { challenge: codeChallenge, nonce })
    return `https://idp.test/authorize?state=${state}`
  },
  async redeem({ code, codeVerifier, nonce }) {
    const [who = '', state = ''] = code.split('.')
    const at = issued.get(state)
    const principal = people[who]
    if (at === undefined || principal === undefined || at.challenge !== codeChallengeOf(codeVerifier) || at.nonce !== nonce) throw new Error('invalid_grant')
    return principal
  },
}

let admin: AdminServer
let service: ApprovalService
let origin: string

before(async () => {
  service = createApprovalService({ store: createMemoryApprovalStore(), audit: { write: async () => undefined }, clock })
  admin = await startAdminServer('127.0.0.1', 0, {
    scrape: async () => ({ contentType: 'text/plain', text: '' }),
    readiness: async () => ({ ready: true, checks: {} }),
    logError: () => undefined,
    approvalsWeb: { service, policy: () => policy, signIn, sessions: createWebSessions({ clock, lifetimeMs: 900_000 }), redirectUrl: 'http://127.0.0.1:1/approvals/callback', clock, logError: () => undefined },
  })
  // The page's origin is the redirect URL's; the listener's real port differs, which the Origin checks below use.
  origin = 'http://127.0.0.1:1'
})
after(() => admin.close())

const get = (path: string, cookie = '') => fetch(`${admin.origin}${path}`, { redirect: 'manual', headers: cookie === '' ? {} : { cookie } })

function cookieOf(response: Response, name: string): string {
  const line = response.headers.getSetCookie().find((l) => l.startsWith(`${name}=`))
  assert.ok(line !== undefined, `${name} is set: ${response.headers.getSetCookie().join(' | ')}`)
  return line
}

/** Signs in through the page as `who`; returns the session cookie pair and the page's CSRF token. */
async function signInAs(who: string): Promise<{ cookie: string; csrf: string; html: string }> {
  const start = await get('/approvals/sign-in')
  assert.equal(start.status, 303)
  const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? ''
  const bound = cookieOf(start, 'airlock_approvals_signin').split(';')[0] ?? ''
  const back = await get(`/approvals/callback?code=${who}.${state}&state=${state}&iss=https%3A%2F%2Fidp.test`, bound)
  assert.equal(back.status, 200, await back.clone().text())
  const cookie = cookieOf(back, 'airlock_approvals').split(';')[0] ?? ''
  const page = await get('/approvals', cookie)
  const html = await page.text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1]
  assert.ok(csrf !== undefined, `the page carries a CSRF token: ${html.slice(0, 200)}`)
  return { cookie, csrf, html }
}

async function ask(args: Record<string, unknown>, who = people.bob, reason = 'crash loop'): Promise<string> {
  const grant = policy.grants.find((g) => g.id === 'restart')
  assert.ok(grant !== undefined && who !== undefined, 'fixture')
  const gate = await service.gate({ principal: who, policy, grant, tool: 'whoami', connection: undefined, argsHash: hashArgs(args), args, reason, correlationId: 'c0ffee' })
  return gate.record.id
}

function decide(cookie: string, fields: Record<string, string>, headers: Record<string, string> = { origin }): Promise<Response> {
  return fetch(`${admin.origin}/approvals/decide`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  })
}

describe('approvals web page', () => {
  it('sends a visitor without a session (or with an unknown one) to sign in', async () => {
    for (const cookie of ['', 'airlock_approvals=forged']) {
      const res = await get('/approvals', cookie)
      assert.equal(res.status, 303, `cookie ${JSON.stringify(cookie)}`)
      assert.equal(res.headers.get('location'), '/approvals/sign-in')
    }
    const post = await decide('', { csrf: 'x', id: 'y', verdict: 'approve', reason: 'z' })
    assert.equal(post.status, 401, 'a POST without a session is refused')
  })

  it('binds the sign-in to this browser: state from another browser, none, or used twice is refused', async () => {
    const start = await get('/approvals/sign-in')
    const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? ''
    const bound = cookieOf(start, 'airlock_approvals_signin')
    assert.match(bound, /HttpOnly/, 'the sign-in cookie is HttpOnly')
    const other = await get('/approvals/sign-in')
    const otherState = new URL(other.headers.get('location') ?? '').searchParams.get('state') ?? ''
    const pair = bound.split(';')[0] ?? ''
    const mismatch = await get(`/approvals/callback?code=carol.${otherState}&state=${otherState}`, pair)
    assert.equal(mismatch.status, 400, 'a state that is not this browser\'s is refused')
    assert.equal(mismatch.headers.getSetCookie().some((l) => l.startsWith('airlock_approvals=')), false, 'no session on a refused callback')
    assert.equal((await get(`/approvals/callback?code=carol.${state}&state=${state}`)).status, 400, 'no sign-in cookie: refused')
    const ok = await get(`/approvals/callback?code=carol.${state}&state=${state}`, pair)
    assert.equal(ok.status, 200)
    const session = cookieOf(ok, 'airlock_approvals')
    for (const flag of ['HttpOnly', 'SameSite=Strict', 'Path=/approvals', 'Max-Age=']) assert.ok(session.includes(flag), `${flag} in ${session}`)
    assert.doesNotMatch(session, /Secure/, 'loopback http: no Secure flag, or the browser would drop it')
    assert.equal((await get(`/approvals/callback?code=carol.${state}&state=${state}`, pair)).status, 400, 'a state works once')
    assert.equal((await get(`/approvals/callback?code=bob.${state}&state=${state}`, pair)).status, 400)
  })

  it('refuses a callback whose code the identity provider does not accept', async () => {
    const start = await get('/approvals/sign-in')
    const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? ''
    const res = await get(`/approvals/callback?code=mallory.${state}&state=${state}`, cookieOf(start, 'airlock_approvals_signin').split(';')[0] ?? '')
    assert.equal(res.status, 401)
    assert.match(await res.text(), /could not be verified/)
  })

  it('sends a strict CSP and the other security headers on every page', async () => {
    const { cookie } = await signInAs('carol')
    for (const res of [await get('/approvals', cookie), await get('/approvals'), await get('/approvals/callback?state=x'), await get('/approvals/style.css')]) {
      assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", res.url)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer')
      assert.equal(res.headers.get('cache-control'), 'no-store')
    }
  })

  it('escapes hostile argument values and reasons', async () => {
    const hostile = '</pre><script>alert(1)</script><img src=x onerror="alert(2)">'
    const id = await ask({ deployment: hostile }, people.bob, `"><script>alert(3)</script>`)
    const { html } = await signInAs('carol')
    assert.ok(html.includes(`data-request-id="${id}"`), 'the request is listed')
    assert.doesNotMatch(html, /<script|<img|onerror="/i, 'no markup from the request reaches the page')
    assert.ok(html.includes('&#60;/pre&#62;&#60;script&#62;alert(1)&#60;/script&#62;'), 'the argument is shown, escaped')
    assert.ok(html.includes('&#34;&#62;&#60;script&#62;alert(3)'), 'the reason is shown, escaped')
  })

  it('refuses a decision without the CSRF token, with a wrong one, or from another origin; the request stays pending', async () => {
    const id = await ask({ deployment: 'csrf' })
    const { cookie, csrf } = await signInAs('carol')
    const base = { id, verdict: 'approve', reason: 'ok' }
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ['no token', base, { origin }],
      ['wrong token', { ...base, csrf: alterTail(csrf) }, { origin }],
      ['other origin', { ...base, csrf }, { origin: 'https://evil.example' }],
      ['null origin, cross-site', { ...base, csrf }, { origin: 'null', 'sec-fetch-site': 'cross-site' }],
      ['no origin, no fetch metadata', { ...base, csrf }, {}],
    ]
    for (const [name, fields, headers] of attempts) {
      const res = await decide(cookie, fields, headers)
      assert.equal(res.status, 403, name)
    }
    const still = await service.list(people.carol as Principal, policy)
    assert.ok(still.some((r) => r.id === id), 'nothing was decided')
    const ok = await decide(cookie, { ...base, csrf }, { origin: 'null', 'sec-fetch-site': 'same-origin' })
    assert.equal(ok.status, 303, 'a same-origin form under no-referrer (Origin: null) is accepted')
    const page = await (await get('/approvals', cookie)).text()
    assert.ok(page.includes(`Approved request ${id}.`), 'the outcome is shown once')
    assert.ok(!(await (await get('/approvals', cookie)).text()).includes(`Approved request ${id}.`), 'and then cleared')
  })

  it('applies the service\'s rules: no self-approval, reason required, approver group needed', async () => {
    const own = await ask({ deployment: 'own' }, people.dana)
    const dana = await signInAs('dana')
    assert.ok(!dana.html.includes(`data-request-id="${own}"`), 'dana does not see her own request')
    await decide(dana.cookie, { csrf: dana.csrf, id: own, verdict: 'approve', reason: 'mine' })
    assert.match(await (await get('/approvals', dana.cookie)).text(), /was not decided: Nobody may approve or deny their own request\./)
    await decide(dana.cookie, { csrf: dana.csrf, id: own, verdict: 'deny', reason: '   ' })
    assert.match(await (await get('/approvals', dana.cookie)).text(), /needs a non-empty/)

    const bob = await signInAs('bob')
    assert.match(bob.html, /You are not in any approver group/)
    const other = await ask({ deployment: 'other' }, people.dana)
    await decide(bob.cookie, { csrf: bob.csrf, id: other, verdict: 'approve', reason: 'sure' })
    assert.match(await (await get('/approvals', bob.cookie)).text(), /was not decided: You are not in an approver group of this request\./)
    assert.ok((await service.list(people.carol as Principal, policy)).some((r) => r.id === other), 'still pending')
  })

  it('signs out with the CSRF token and forgets the session', async () => {
    const { cookie, csrf } = await signInAs('carol')
    const out = await fetch(`${admin.origin}/approvals/sign-out`, { method: 'POST', headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}` })
    assert.equal(out.status, 200)
    assert.equal((await get('/approvals', cookie)).status, 303, 'the old cookie no longer works')
  })

  it('ends a session after its lifetime', async () => {
    const { cookie } = await signInAs('carol')
    clock.advance(900_001)
    assert.equal((await get('/approvals', cookie)).status, 303)
  })

  it('answers 503 with a page, not a redirect, when the identity provider cannot be reached', async () => {
    const down = await startAdminServer('127.0.0.1', 0, {
      scrape: async () => ({ contentType: 'text/plain', text: '' }),
      readiness: async () => ({ ready: true, checks: {} }),
      logError: () => undefined,
      approvalsWeb: {
        service, policy: () => policy, sessions: createWebSessions({ clock, lifetimeMs: 900_000 }), redirectUrl: 'http://127.0.0.1:1/approvals/callback', clock, logError: () => undefined,
        signIn: { authorizationUrl: async () => Promise.reject(new Error('discovery failed')), redeem: async () => assert.fail('not reached') },
      },
    })
    try {
      const res = await fetch(`${down.origin}/approvals/sign-in`, { redirect: 'manual' })
      assert.equal(res.status, 503)
      assert.equal(res.headers.get('location'), null)
      assert.match(await res.text(), /cannot be reached right now/)
    } finally {
      await down.close()
    }
  })

  it('answers 405 to the wrong method', async () => {
    assert.equal((await fetch(`${admin.origin}/approvals`, { method: 'POST' })).status, 405)
    assert.equal((await get('/approvals/decide')).status, 405)
  })
})

