import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

/** SHA-256 of nothing: the payload hash of a request without a body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** RFC 3986 unreserved characters stay; everything else is %XX (upper case), as AWS requires. */
export function awsUriEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/**
 * Canonical URI for every service but S3: the path as it arrived on the wire, with empty, `.` and
 * `..` segments normalised, then URI-encoded once more (the SDK's `uriEscapePath`).
 */
export function canonicalPath(rawPath: string): string {
  const segments: string[] = []
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(segment)
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : ''
  return `/${segments.map(awsUriEscape).join('/')}${trailing}`
}

export interface QueryParam {
  readonly key: string
  readonly value: string
}

/** Splits a raw query string into decoded pairs; undefined when it is not valid percent-encoding. */
export function parseRawQuery(rawQuery: string): QueryParam[] | undefined {
  const params: QueryParam[] = []
  if (rawQuery === '') return params
  for (const part of rawQuery.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const rawKey = eq === -1 ? part : part.slice(0, eq)
    const rawValue = eq === -1 ? '' : part.slice(eq + 1)
    try {
      params.push({ key: decodeURIComponent(rawKey), value: decodeURIComponent(rawValue) })
    } catch {
      return undefined
    }
  }
  return params
}

/** Sorted by encoded key, then encoded value; `X-Amz-Signature` never signs itself. */
export function canonicalQuery(params: readonly QueryParam[]): string {
  return params
    .filter((p) => p.key.toLowerCase() !== 'x-amz-signature')
    .map((p) => [awsUriEscape(p.key), awsUriEscape(p.value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/** Header value as AWS canonicalises it: trimmed, runs of spaces and tabs collapsed. */
export function canonicalHeaderValue(value: string): string {
  return value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest()
}

export interface SignatureInput {
  readonly secretAccessKey: string
  readonly amzDate: string
  readonly scope: { readonly date: string; readonly region: string; readonly service: string }
  readonly canonicalRequest: string
}

/** HMAC chain of SigV4: kDate → kRegion → kService → kSigning, then over the string to sign. */
export function computeSignature(input: SignatureInput): string {
  const { date, region, service } = input.scope
  const scope = `${date}/${region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', input.amzDate, scope, sha256Hex(input.canonicalRequest)].join('\n')
  let key: Buffer = hmac(`AWS4${input.secretAccessKey}`, date)
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part)
  return hmac(key, stringToSign).toString('hex')
}

/** Constant-time comparison of two strings (length differences leak only the length). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8')
  const bb = Buffer.from(b, 'utf8')
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab)
    return false
  }
  return timingSafeEqual(ab, bb)
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

/** Epoch ms of an ISO 8601 basic timestamp (`20260101T120000Z`); undefined when malformed. */
export function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE.exec(value)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s] = m.map(Number)
  if (y === undefined || mo === undefined || d === undefined || h === undefined || mi === undefined || s === undefined) {
    return undefined
  }
  const ms = Date.UTC(y, mo - 1, d, h, mi, s)
  // Reject dates that Date.UTC silently rolls over (e.g. month 13).
  if (new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '') !== value) return undefined
  return ms
}

/** Formats epoch ms as an ISO 8601 basic timestamp, as AWS messages show times. */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '')
}
