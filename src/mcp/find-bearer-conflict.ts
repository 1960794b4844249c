import type { IncomingMessage } from 'node:http'

/** How a request carries more than one bearer token (recorded in the audit trail, never shown). */
export type BearerConflict =
  /** Two or more `Authorization` header lines (node's `req.headers` would keep only the first). */
  | 'repeated_header'
  /** One `Authorization` line holding several comma-separated credentials (how proxies merge repeated lines). */
  | 'several_credentials'
  /** An `Authorization` header and an `access_token` query parameter (RFC 6750 §2.3). */
  | 'header_and_query'
  /** An `Authorization` header and a form-encoded body, where RFC 6750 §2.2 puts `access_token`. */
  | 'header_and_form_body'

const FORM_TYPE = 'application/x-www-form-urlencoded'
/** `auth-scheme 1*SP something` (RFC 9110 §11.4). */
const CREDENTIAL = /^\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+ +\S/

function authorizationLines(req: IncomingMessage): string[] {
  const lines: string[] = []
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === 'authorization') lines.push(req.rawHeaders[i + 1] ?? '')
  }
  return lines
}

function hasQueryToken(url: string | undefined): boolean {
  const query = (url ?? '').indexOf('?')
  return query !== -1 && new URLSearchParams((url ?? '').slice(query + 1)).has('access_token')
}

function isFormBody(req: IncomingMessage): boolean {
  const type = req.headers['content-type']
  return type !== undefined && type.split(';')[0]?.trim().toLowerCase() === FORM_TYPE
}

/**
 * Whether a request presents a bearer token in more than one place or more than once, which
 * RFC 6750 §3.1 answers with `invalid_request` (HTTP 400): the gateway must not pick one of them.
 * Reads `req.rawHeaders`, since node keeps only the first of repeated `Authorization` lines. A
 * form-encoded body is not read: with an `Authorization` header it is refused either way (the
 * endpoint speaks JSON), so whether it holds `access_token` does not change the answer. A token
 * only in the query or the body is no token to the gateway (401 without an error code).
 */
export function findBearerConflict(req: IncomingMessage): BearerConflict | undefined {
  const lines = authorizationLines(req)
  if (lines.length === 0) return undefined
  if (lines.length > 1) return 'repeated_header'
  // Only parts shaped `scheme SP credentials` count: a comma may also separate auth-params.
  const credentials = (lines[0] ?? '').split(',').filter((part) => CREDENTIAL.test(part))
  if (credentials.length > 1 && credentials.some((part) => /^\s*bearer\s/i.test(part))) return 'several_credentials'
  if (hasQueryToken(req.url)) return 'header_and_query'
  if (isFormBody(req)) return 'header_and_form_body'
  return undefined
}
