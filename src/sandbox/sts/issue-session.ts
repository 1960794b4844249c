import { createHash, randomBytes } from 'node:crypto'
import type { Clock } from '../../clock.js'
import type { CredentialStore, SandboxCredential } from '../sigv4/credential-store.js'
import type { ParsedRoleArn } from './sts-roles.js'

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function base32(bytes: Buffer, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += BASE32[(bytes[i] ?? 0) % 32]
  return out
}

/** IAM's unique role id (`AROA…`), stable per role ARN. */
export function roleId(roleArn: string): string {
  return 'AROA' + base32(createHash('sha256').update(roleArn).digest(), 17)
}

export interface IssuedSession {
  readonly credential: SandboxCredential & { readonly sessionToken: string; readonly expiresAt: number }
  readonly assumedRoleArn: string
  readonly assumedRoleId: string
}

/** Mints `ASIA…` temporary credentials for a role session and registers them with every emulator's verifier. */
export function issueSession(
  deps: { readonly store: CredentialStore; readonly clock: Clock },
  role: ParsedRoleArn & { readonly roleArn: string },
  sessionName: string,
  durationSeconds: number,
  sourceIdentity: string | undefined,
): IssuedSession {
  const assumedRoleArn = `arn:${role.partition}:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`
  // Whole seconds, as STS reports Expiration.
  const expiresAt = Math.floor(deps.clock.now() / 1000) * 1000 + durationSeconds * 1000
  const credential = {
    accessKeyId: 'ASIA' + base32(randomBytes(16), 16),
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: randomBytes(96).toString('base64'),
    principalArn: assumedRoleArn,
    expiresAt,
    ...(sourceIdentity === undefined ? {} : { sourceIdentity }),
  }
  deps.store.put(credential)
  return { credential, assumedRoleArn, assumedRoleId: `${roleId(role.roleArn)}:${sessionName}` }
}

/** STS timestamps: ISO 8601 without milliseconds. */
export function stsTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
