const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** True when `url` is https, or http to a loopback host and `allowInsecureLoopback` is set. */
export function isSecureUrl(url: URL, allowInsecureLoopback: boolean): boolean {
  if (url.protocol === 'https:') return true
  return url.protocol === 'http:' && allowInsecureLoopback && LOOPBACK_HOSTS.has(url.hostname)
}

/**
 * Parses an OIDC issuer identifier: an absolute https URL (http only to a loopback host when
 * allowed) with no query or fragment (OpenID Connect Discovery 1.0 §2).
 * Throws `TypeError` on misuse: this is configuration, checked once at construction.
 */
export function parseIssuerUrl(issuer: string, allowInsecureLoopback: boolean): URL {
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new TypeError('issuer must be an absolute URL')
  }
  if (!isSecureUrl(url, allowInsecureLoopback)) {
    throw new TypeError('issuer must use https (http only to a loopback host with allowInsecureLoopback)')
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError('issuer must not contain a query, fragment or credentials')
  }
  return url
}
