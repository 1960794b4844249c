import { maskSecret } from './posture-check.js'

/** One piece of AWS key material (or a way to mint it) found in a text. */
export interface KeyMaterial {
  readonly line: number
  /** What it is, e.g. `access key id`, `secret access key`, `credential_process`. */
  readonly kind: string
  /** Masked value, or empty when the finding is a setting rather than a value. */
  readonly masked: string
}

const ACCESS_KEY_ID = /(?<![A-Z0-9])((?:AKIA|ASIA)[A-Z0-9]{16})(?![A-Z0-9])/g
const SECRET_ASSIGNMENT = /(aws_?secret_?access_?key|secret_?access_?key|secretAccessKey)["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi
const SESSION_TOKEN = /(aws_?session_?token|aws_?security_?token|sessionToken)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{16,})/gi
const SETTINGS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\s*credential_process\s*=/i, 'credential_process (runs a program that returns AWS credentials)'],
  [/^\s*sso_(start_url|session)\s*=/i, 'AWS SSO profile (can mint AWS credentials)'],
  [/^\s*web_identity_token_file\s*=/i, 'web_identity_token_file (can assume a role)'],
]

/** Finds AWS access key ids, secret keys, session tokens and credential-minting settings in a text. */
export function scanText(text: string): KeyMaterial[] {
  const found: KeyMaterial[] = []
  const lines = text.split(/\r?\n/)
  lines.forEach((content, index) => {
    const line = index + 1
    for (const match of content.matchAll(ACCESS_KEY_ID)) found.push({ line, kind: 'access key id', masked: maskSecret(match[1] ?? '') })
    for (const match of content.matchAll(SECRET_ASSIGNMENT)) found.push({ line, kind: 'secret access key', masked: maskSecret(match[2] ?? '') })
    for (const match of content.matchAll(SESSION_TOKEN)) found.push({ line, kind: 'session token', masked: maskSecret(match[2] ?? '') })
    for (const [pattern, kind] of SETTINGS) if (pattern.test(content)) found.push({ line, kind, masked: '' })
  })
  return found
}
