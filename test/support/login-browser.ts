/**
 * A person at the dev IdP's sign-in page, reduced to HTTP: a cookie jar, manual redirects, the
 * login form read from the page and posted back. Used to drive real OAuth clients through the
 * real login page without a browser.
 */
import assert from 'node:assert/strict'

export type Browse = (url: string, init?: RequestInit) => Promise<Response>

/** fetch with a cookie jar per instance and redirects left to the caller. */
export function createLoginBrowser(): Browse {
  const jar = new Map<string, string>()
  return async function browse(url, init = {}) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const headers = new Headers(init.headers)
    if (cookie !== '') headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, redirect: 'manual', headers })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)]
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name)
      else jar.set(name, value)
    }
    return response
  }
}

/** Follows redirects while they stay on `origin`; returns the page it stops at, or the first URL elsewhere. */
export async function followWithin(browse: Browse, origin: string, first: Response): Promise<Response | URL> {
  let response = first
  for (let hops = 0; hops < 10; hops++) {
    const location = response.headers.get('location')
    if (location === null) return response
    const next = new URL(location, response.url === '' ? origin : response.url)
    if (next.origin !== origin) return next
    response = await browse(next.href)
  }
  throw new Error('too many redirects')
}

export interface SignInResult {
  /** Where the IdP sent the browser back to: the client's redirect URI with `code` (or `error`) and `iss`. */
  readonly callback: URL
  /** Whether the login page was shown (false when an existing session answered at once). */
  readonly sawLoginPage: boolean
}

/**
 * Opens `authorizationUrl`, picks `user` on the login page and follows the redirects back to the
 * client. Throws when the flow stops at a page of the IdP (naming its status and text).
 */
export async function signInAs(user: string, authorizationUrl: string | URL, browse: Browse = createLoginBrowser()): Promise<SignInResult> {
  const start = new URL(authorizationUrl)
  const page = await followWithin(browse, start.origin, await browse(start.href))
  if (page instanceof URL) return { callback: page, sawLoginPage: false }
  const html = await page.text()
  if (page.status !== 200) throw new Error(`sign-in stopped at ${page.status}: ${html.replace(/<[^>]+>/g, ' ').trim().slice(0, 300)}`)
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]
  assert.ok(action !== undefined, `the login page has a form: ${html.slice(0, 300)}`)
  assert.ok(html.includes(`value="${user}"`) || user === 'eve', `the login page offers ${user}`)
  const posted = await browse(new URL(action, start.origin).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user }).toString(),
  })
  const end = await followWithin(browse, start.origin, posted)
  if (end instanceof URL) return { callback: end, sawLoginPage: true }
  throw new Error(`sign-in stopped at ${end.status}: ${(await end.text()).replace(/<[^>]+>/g, ' ').trim().slice(0, 300)}`)
}
