import { canonicalHeaderValue } from './sigv4-canonical.js'
import { sigV4Failure, type SigV4Failure } from './sigv4-failure.js'

const SIGNATURE_HEX = /^[0-9a-f]{64}$/
const SIGNED_HEADERS = /^[a-z0-9!#$%&'*+.^_`|~-]+(;[a-z0-9!#$%&'*+.^_`|~-]+)*$/

/** The parts of a credential scope: `<key>/<yyyymmdd>/<region>/<service>/aws4_request`. */
export interface CredentialScope {
  readonly accessKeyId: string
  readonly date: string
  readonly region: string
  readonly service: string
}

/** Whether a SignedHeaders / X-Amz-SignedHeaders value and a signature are well-formed. */
export function isWellFormed(signedHeaders: string, signature: string): boolean {
  return SIGNATURE_HEX.test(signature) && SIGNED_HEADERS.test(signedHeaders) && isSortedUnique(signedHeaders.split(';'))
}

export type ParsedAuthorization = { ok: true; credential: string; signedHeaders: string; signature: string } | SigV4Failure

export function parseAuthorization(value: string): ParsedAuthorization {
  const prefix = 'AWS4-HMAC-SHA256 '
  if (!value.startsWith(prefix)) return sigV4Failure('incomplete', 'Unsupported authorization type; only AWS4-HMAC-SHA256 is accepted.')
  const fields = new Map<string, string>()
  for (const part of value.slice(prefix.length).split(',')) {
    const trimmed = part.trim()
    const eq = trimmed.indexOf('=')
    if (eq <= 0) return sigV4Failure('incomplete', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.`)
    const name = trimmed.slice(0, eq)
    if (fields.has(name)) return sigV4Failure('incomplete', `Authorization header repeats '${name}'.`)
    fields.set(name, trimmed.slice(eq + 1))
  }
  const credential = fields.get('Credential')
  const signedHeaders = fields.get('SignedHeaders')
  const signature = fields.get('Signature')
  if (credential === undefined || signedHeaders === undefined || signature === undefined || fields.size !== 3) {
    return sigV4Failure('incomplete', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.`)
  }
  if (!SIGNATURE_HEX.test(signature)) return sigV4Failure('incomplete', 'Signature must be 64 lowercase hexadecimal characters.')
  if (!SIGNED_HEADERS.test(signedHeaders) || !isSortedUnique(signedHeaders.split(';'))) {
    return sigV4Failure('incomplete', 'SignedHeaders must be lowercase header names, sorted, separated by semicolons.')
  }
  return { ok: true, credential, signedHeaders, signature }
}

export function parseScope(credential: string, amzDate: string, service: string): CredentialScope | SigV4Failure {
  const parts = credential.split('/')
  const [accessKeyId, date, region, scopeService, terminator] = parts
  if (parts.length !== 5 || accessKeyId === undefined || accessKeyId === '' || date === undefined || region === undefined ||
    scopeService === undefined || terminator === undefined) {
    return sigV4Failure('incomplete', 'Credential must have exactly 5 slash-separated components: <key>/<date>/<region>/<service>/aws4_request.')
  }
  if (terminator !== 'aws4_request') return sigV4Failure('bad_scope', "Credential should be scoped with a valid terminator: 'aws4_request'.")
  if (date !== amzDate.slice(0, 8)) {
    return sigV4Failure(
      'bad_scope',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    )
  }
  if (!/^[a-z0-9-]{1,64}$/.test(region)) return sigV4Failure('bad_scope', 'Credential should be scoped to a valid region.')
  if (scopeService !== service) return sigV4Failure('bad_scope', `Credential should be scoped to correct service: '${service}'.`)
  return { accessKeyId, date, region, service: scopeService }
}

export function canonicalHeaderLines(signed: readonly string[], get: (name: string) => string | undefined): string | undefined {
  const lines: string[] = []
  for (const name of signed) {
    const value = get(name)
    if (value === undefined) return undefined
    lines.push(`${name}:${canonicalHeaderValue(value)}\n`)
  }
  return lines.join('')
}

function isSortedUnique(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) {
    const prev = names[i - 1]
    const cur = names[i]
    if (prev === undefined || cur === undefined || prev >= cur) return false
  }
  return true
}
