/**
 * Why a fetch failed, in words a person can act on: `connection refused by 127.0.0.1:8080`,
 * `no DNS answer for airlock.example.com (ENOTFOUND)`, `no answer within 10 s`, a TLS failure.
 * Reads only the error's name and the system code of its cause; never a body or a header.
 */
export function describeFetchFailure(error: unknown, url: string, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${formatSeconds(timeoutMs)}`
  const cause = error instanceof Error ? error.cause : undefined
  const code = codeOf(cause) ?? codeOf(error)
  const { host, port } = target(url)
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}:${port} (nothing listens there: is the gateway running?)`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `no DNS answer for ${host} (${code})`
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `${host}:${port} closed the connection`
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connecting to ${host}:${port} timed out`
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${host}`
    case undefined:
      return error instanceof Error && /bad port/i.test(String(cause instanceof Error ? cause.message : '')) ? `port ${port} is blocked by fetch (a reserved port)` : 'the request failed'
    default:
      return /CERT|SSL|TLS/.test(code) ? `TLS handshake with ${host}:${port} failed (${code})` : `the request failed (${code})`
  }
}

function codeOf(value: unknown): string | undefined {
  return value instanceof Error && 'code' in value && typeof value.code === 'string' ? value.code : undefined
}

function target(url: string): { host: string; port: string } {
  const parsed = URL.parse(url)
  if (parsed === null) return { host: url, port: '' }
  return { host: parsed.hostname, port: parsed.port === '' ? (parsed.protocol === 'https:' ? '443' : '80') : parsed.port }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}
