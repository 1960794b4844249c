/**
 * The authorization request as the dev IdP serves it: one that names none of the gateway's scopes
 * (no `scope` at all, or only `openid` / `offline_access`, as MCP clients send when the resource
 * advertises no scopes) asks for the first of them as well. Without this, oidc-provider grants
 * such a request nothing and refuses it with a bare `access_denied`.
 * Returns the rewritten path and query, or undefined when the request needs no change.
 */
export function withDefaultResourceScope(pathAndQuery: string, resourceScopes: readonly [string, ...string[]]): string | undefined {
  const url = new URL(pathAndQuery, 'http://dev-idp')
  if (url.pathname !== '/auth') return undefined
  const asked = (url.searchParams.get('scope') ?? '').split(' ').filter((scope) => scope !== '')
  if (asked.some((scope) => resourceScopes.includes(scope))) return undefined
  url.searchParams.set('scope', [...asked, resourceScopes[0]].join(' '))
  return `${url.pathname}${url.search}`
}
