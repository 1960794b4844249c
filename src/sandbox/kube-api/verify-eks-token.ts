import type { Clock } from '../../clock.js'
import type { CredentialStore } from '../sigv4/credential-store.js'
import { parseAmzDate } from '../sigv4/sigv4-canonical.js'
import { verifyPresignedUrl } from '../sigv4/verify-sigv4.js'

export type EksTokenVerification =
  | { readonly ok: true; readonly arn: string; readonly canonicalArn: string; readonly accessKeyId: string }
  | { readonly ok: false; readonly reason: string }

export interface EksTokenVerifierOptions {
  readonly clusterName: string
  readonly region: string
  readonly store: CredentialStore
  readonly clock: Clock
}

const PREFIX = 'k8s-aws-v1.'
const MAX_TOKEN_BYTES = 4096
const LIFETIME_MS = 15 * 60_000
const CLUSTER_ID_HEADER = 'x-k8s-aws-id'
const PARAMETER_ALLOW_LIST = new Set([
  'action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires',
  'x-amz-security-token', 'x-amz-signature', 'x-amz-signedheaders',
])

/**
 * Checks a bearer token the way aws-iam-authenticator does (format, host allow list, query allow
 * list, signed cluster header, 15-minute date window) and then, instead of forwarding the URL to
 * STS, verifies its SigV4 presigned signature against the sandbox's credential store.
 */
export function createEksTokenVerifier(options: EksTokenVerifierOptions): (token: string) => EksTokenVerification {
  const allowedHosts = new Map([
    [`sts.${options.region}.amazonaws.com`, options.region],
    ['sts.amazonaws.com', 'us-east-1'],
  ])
  const fail = (reason: string): EksTokenVerification => ({ ok: false, reason })

  return function verifyEksToken(token) {
    if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) return fail('token is too large')
    if (!token.startsWith(PREFIX)) return fail('missing prefix')
    const encoded = token.slice(PREFIX.length)
    // Unpadded base64url only (Go's base64.RawURLEncoding): no "=", no "+" or "/".
    if (!/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1) return fail('not unpadded base64url')
    const raw = Buffer.from(encoded, 'base64url').toString('utf8')
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return fail('not a URL')
    }
    if (url.protocol !== 'https:') return fail('unexpected scheme')
    const scopeRegion = allowedHosts.get(url.host)
    if (scopeRegion === undefined) return fail('unexpected host')
    if (url.pathname !== '/' || url.username !== '' || url.password !== '' || url.hash !== '') return fail('unexpected path')

    const params = new Map<string, string>()
    const seen = new Set<string>()
    for (const [key, value] of url.searchParams) {
      const lower = key.toLowerCase()
      if (!PARAMETER_ALLOW_LIST.has(lower)) return fail('query parameter not allowed')
      if (seen.has(lower)) return fail('query parameter repeated')
      seen.add(lower)
      params.set(lower, value)
    }
    if (params.get('action') !== 'GetCallerIdentity') return fail('unexpected action')
    const signedHeaders = (params.get('x-amz-signedheaders') ?? '').split(';')
    if (!signedHeaders.some((h) => h.toLowerCase() === CLUSTER_ID_HEADER)) return fail('cluster header not signed')
    const expires = Number(params.get('x-amz-expires') ?? 'x')
    if (!Number.isInteger(expires) || expires < 0 || expires > 900) return fail('invalid X-Amz-Expires')
    const date = params.get('x-amz-date') ?? ''
    const signedAt = parseAmzDate(date)
    if (signedAt === undefined) return fail('invalid X-Amz-Date')
    const now = options.clock.now()
    if (now > signedAt + LIFETIME_MS) return fail('token expired')
    if (signedAt > now + LIFETIME_MS) return fail('token signed in the future')

    // What STS would do with the URL the authenticator forwards (with our own cluster id header).
    // STS honours such a URL for 15 minutes whatever X-Amz-Expires says (checked above), so the
    // shared verifier judges the signature as of the signing instant; key expiry uses real time.
    const signature = verifyPresignedUrl(url, { host: url.host, [CLUSTER_ID_HEADER]: options.clusterName }, {
      store: options.store, service: 'sts', method: 'GET', clock: { now: () => signedAt },
    })
    if (!signature.ok) return fail(`signature refused: ${signature.reason}`)
    if (signature.region !== scopeRegion) return fail('credential scoped to another region')
    const { credential, accessKeyId } = signature
    if (credential.expiresAt !== undefined && now >= credential.expiresAt) return fail('credentials expired')

    const canonicalArn = canonicalizeArn(credential.principalArn)
    if (canonicalArn === undefined) return fail('unsupported principal')
    return { ok: true, arn: credential.principalArn, canonicalArn, accessKeyId }
  }
}

/** Like the authenticator: assumed-role session ARNs become the IAM role ARN; users and roles stay. */
export function canonicalizeArn(arn: string): string | undefined {
  const match = /^arn:(aws|aws-cn|aws-us-gov):(sts|iam)::(\d{12}):(.+)$/.exec(arn)
  if (match === null) return undefined
  const [, partition, service, account, resource = ''] = match
  const parts = resource.split('/')
  const kind = parts[0]
  if (service === 'sts' && kind === 'assumed-role') {
    if (parts.length < 3) return undefined
    return `arn:${partition}:iam::${account}:role/${parts.slice(1, -1).join('/')}`
  }
  if (service === 'sts' && kind === 'federated-user') return arn
  if (service === 'iam' && (kind === 'role' || kind === 'user' || kind === 'root')) return arn
  return undefined
}
