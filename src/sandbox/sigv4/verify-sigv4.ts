import type { IncomingHttpHeaders } from 'node:http'
import type { Clock } from '../../clock.js'
import type { CredentialStore, SandboxCredential } from './credential-store.js'
import {
  EMPTY_SHA256,
  canonicalPath,
  canonicalQuery,
  computeSignature,
  formatAmzDate,
  parseAmzDate,
  parseRawQuery,
  safeEqual,
  sha256Hex,
  type QueryParam,
} from './sigv4-canonical.js'
import { sigV4Failure, type SigV4Failure } from './sigv4-failure.js'
import { canonicalHeaderLines, isWellFormed, parseAuthorization, parseScope, type CredentialScope } from './sigv4-parse.js'

/** A request as an emulator received it, before any parsing of path, query or body. */
export interface SignedRequest {
  readonly method: string
  /** Path and query exactly as received, e.g. Node's `req.url`. */
  readonly rawUrl: string
  readonly headers: IncomingHttpHeaders
  readonly body: Uint8Array
}

export interface SigV4Success {
  readonly ok: true
  readonly credential: SandboxCredential
  readonly region: string
  readonly service: string
  readonly accessKeyId: string
}

export type SigV4Result = SigV4Success | SigV4Failure

export interface VerifySigV4Options {
  readonly store: CredentialStore
  /** The signing name the emulator answers for, e.g. 'rds-data', 'ssm', 'sts', 'eks'. */
  readonly service: string
  readonly clock: Clock
  /** Allowed distance between X-Amz-Date and now; AWS uses 5 minutes. */
  readonly maxSkewMs?: number
  /** Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD` (S3 only in AWS); refused by default. */
  readonly allowUnsignedPayload?: boolean
}

const DEFAULT_SKEW_MS = 5 * 60 * 1000
const MAX_PRESIGN_SECONDS = 604_800

interface Signed {
  readonly scope: CredentialScope
  readonly amzDate: string
  readonly signature: string
  readonly canonicalRequest: string
  readonly sessionToken: string | undefined
}

/**
 * Verifies an `Authorization: AWS4-HMAC-SHA256 …` request the way AWS does: canonical request,
 * credential scope (day, service), key lookup, constant-time signature compare, session token,
 * credential expiry and clock skew. Failures carry restJson error names; see `mapSigV4Failure`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
export function verifySigV4(req: SignedRequest, opts: VerifySigV4Options): SigV4Result {
  const authorization = headerValue(req.headers, 'authorization')
  if (authorization === undefined) return sigV4Failure('missing')
  const auth = parseAuthorization(authorization)
  if (!auth.ok) return auth

  const amzDate = headerValue(req.headers, 'x-amz-date')
  if (amzDate === undefined) {
    return sigV4Failure('incomplete', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
  }
  const dateMs = parseAmzDate(amzDate)
  if (dateMs === undefined) return sigV4Failure('incomplete', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")

  const scope = parseScope(auth.credential, amzDate, opts.service)
  if ('ok' in scope) return scope

  const signedHeaders = auth.signedHeaders.split(';')
  for (const required of ['host', 'x-amz-date']) {
    if (!signedHeaders.includes(required)) {
      return sigV4Failure('bad_signature', `'${required}' must be a 'SignedHeader' in the AWS Authorization.`)
    }
  }
  for (const name of Object.keys(req.headers)) {
    const lower = name.toLowerCase()
    if (lower.startsWith('x-amz-') && !signedHeaders.includes(lower)) {
      return sigV4Failure('bad_signature', `'${lower}' must be a 'SignedHeader' in the AWS Authorization.`)
    }
  }
  const headerLines = canonicalHeaderLines(signedHeaders, (name) => headerValue(req.headers, name))
  if (headerLines === undefined) return sigV4Failure('bad_signature')

  const payloadHash = requestPayloadHash(req, opts.allowUnsignedPayload === true)
  if (typeof payloadHash !== 'string') return payloadHash

  const queryStart = req.rawUrl.indexOf('?')
  const rawPath = queryStart === -1 ? req.rawUrl : req.rawUrl.slice(0, queryStart)
  const query = parseRawQuery(queryStart === -1 ? '' : req.rawUrl.slice(queryStart + 1))
  if (query === undefined) return sigV4Failure('bad_signature')
  if (query.some((p) => p.key.toLowerCase().startsWith('x-amz-'))) {
    return sigV4Failure('incomplete', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header may be used.')
  }

  const canonicalRequest = [req.method.toUpperCase(), canonicalPath(rawPath), canonicalQuery(query), headerLines, auth.signedHeaders, payloadHash].join('\n')
  const verdict = checkSignature(
    { scope, amzDate, signature: auth.signature, canonicalRequest, sessionToken: headerValue(req.headers, 'x-amz-security-token') },
    opts,
  )
  if (!verdict.ok) return verdict

  const now = opts.clock.now()
  const skew = opts.maxSkewMs ?? DEFAULT_SKEW_MS
  if (dateMs < now - skew) {
    return sigV4Failure(
      'skew',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - skew)} (${formatAmzDate(now)} - ${skew / 60_000} min.)`,
    )
  }
  if (dateMs > now + skew) {
    return sigV4Failure(
      'skew',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + skew)} (${formatAmzDate(now)} + ${skew / 60_000} min.)`,
    )
  }
  return verdict
}

export interface VerifyPresignedOptions {
  readonly store: CredentialStore
  readonly service: string
  readonly method: string
  readonly clock: Clock
  /** Tolerance for an X-Amz-Date in the future; AWS uses 5 minutes. */
  readonly maxSkewMs?: number
}

/**
 * Verifies a query-string signed (presigned) URL, e.g. the STS GetCallerIdentity URL inside an
 * EKS bearer token: X-Amz-Algorithm/Credential/Date/Expires/SignedHeaders/Signature(/Security-Token).
 * `headers` are the signed headers sent alongside (host, x-k8s-aws-id…).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html#presigned-url
 */
export function verifyPresignedUrl(url: URL, headers: Readonly<Record<string, string>>, opts: VerifyPresignedOptions): SigV4Result {
  const query = parseRawQuery(url.search.startsWith('?') ? url.search.slice(1) : url.search)
  if (query === undefined) return sigV4Failure('incomplete', 'The query string is not valid percent-encoding.')
  const single = (key: string): string | undefined | null => {
    const hits = query.filter((p: QueryParam) => p.key === key)
    if (hits.length > 1) return null
    return hits[0]?.value
  }
  const algorithm = single('X-Amz-Algorithm')
  if (algorithm === undefined) return sigV4Failure('missing')
  if (algorithm !== 'AWS4-HMAC-SHA256') return sigV4Failure('incomplete', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
  const credential = single('X-Amz-Credential')
  const amzDate = single('X-Amz-Date')
  const expires = single('X-Amz-Expires')
  const signedHeaderList = single('X-Amz-SignedHeaders')
  const signature = single('X-Amz-Signature')
  const sessionToken = single('X-Amz-Security-Token')
  const contentSha = single('X-Amz-Content-Sha256')
  if (
    typeof credential !== 'string' ||
    typeof amzDate !== 'string' ||
    typeof expires !== 'string' ||
    typeof signedHeaderList !== 'string' ||
    typeof signature !== 'string' ||
    sessionToken === null ||
    contentSha === null
  ) {
    return sigV4Failure(
      'incomplete',
      "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires' exactly once.",
    )
  }
  const dateMs = parseAmzDate(amzDate)
  if (dateMs === undefined) return sigV4Failure('incomplete', "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
  if (!/^[1-9]\d{0,5}$/.test(expires) || Number(expires) > MAX_PRESIGN_SECONDS) {
    return sigV4Failure('incomplete', 'X-Amz-Expires must be between 1 and 604800 seconds.')
  }
  if (!isWellFormed(signedHeaderList, signature)) {
    return sigV4Failure('incomplete', 'X-Amz-Signature or X-Amz-SignedHeaders is malformed.')
  }
  const scope = parseScope(credential, amzDate, opts.service)
  if ('ok' in scope) return scope
  const signedHeaders = signedHeaderList.split(';')
  if (!signedHeaders.includes('host')) return sigV4Failure('bad_signature', "'host' must be a 'SignedHeader' in the AWS Authorization.")
  const lowered = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v] as const))
  const headerLines = canonicalHeaderLines(signedHeaders, (name) => lowered.get(name))
  if (headerLines === undefined) return sigV4Failure('bad_signature')

  const canonicalRequest = [
    opts.method.toUpperCase(),
    canonicalPath(url.pathname),
    canonicalQuery(query),
    headerLines,
    signedHeaderList,
    contentSha ?? EMPTY_SHA256,
  ].join('\n')
  const verdict = checkSignature({ scope, amzDate, signature, canonicalRequest, sessionToken }, opts)
  if (!verdict.ok) return verdict

  const now = opts.clock.now()
  const skew = opts.maxSkewMs ?? DEFAULT_SKEW_MS
  if (dateMs > now + skew) {
    return sigV4Failure('skew', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + skew)}`)
  }
  if (now > dateMs + Number(expires) * 1000) return sigV4Failure('presign_expired')
  return verdict
}

/** Key lookup, signature, session token and credential expiry, in that order. */
function checkSignature(signed: Signed, opts: { store: CredentialStore; clock: Clock }): SigV4Result {
  const credential = opts.store.get(signed.scope.accessKeyId)
  if (credential === undefined) return sigV4Failure('unknown_key')
  const expected = computeSignature({
    secretAccessKey: credential.secretAccessKey,
    amzDate: signed.amzDate,
    scope: signed.scope,
    canonicalRequest: signed.canonicalRequest,
  })
  if (!safeEqual(expected, signed.signature)) return sigV4Failure('bad_signature')
  if (credential.sessionToken === undefined) {
    if (signed.sessionToken !== undefined) return sigV4Failure('bad_token')
  } else if (signed.sessionToken === undefined || !safeEqual(credential.sessionToken, signed.sessionToken)) {
    return sigV4Failure('bad_token')
  }
  if (credential.expiresAt !== undefined && credential.expiresAt <= opts.clock.now()) return sigV4Failure('expired_credentials')
  return {
    ok: true,
    credential,
    region: signed.scope.region,
    service: signed.scope.service,
    accessKeyId: credential.accessKeyId,
  }
}

function requestPayloadHash(req: SignedRequest, allowUnsigned: boolean): string | SigV4Failure {
  const actual = sha256Hex(req.body)
  const declared = headerValue(req.headers, 'x-amz-content-sha256')
  if (declared === undefined) return actual
  if (declared === 'UNSIGNED-PAYLOAD') {
    return allowUnsigned ? declared : sigV4Failure('bad_payload_hash', 'UNSIGNED-PAYLOAD is not accepted by this service.')
  }
  // The signature covers the declared hash, so it must also match the body that arrived.
  return safeEqual(declared, actual) ? declared : sigV4Failure('bad_payload_hash')
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(',') : value
}
