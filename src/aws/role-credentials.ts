import { createHash } from 'node:crypto'
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import type { Principal } from '../auth/principal.js'
import type { Clock } from '../clock.js'
import { UpstreamError } from '../errors.js'
import type { AwsTarget } from './aws-clients.js'
import { cacheKeyText, createBoundedCache } from './bounded-cache.js'

/** Which principal attribute names the role session (the source identity is always the subject). */
export type SessionNameClaim = 'sub' | 'email' | 'name'

export interface RoleCredentialsOptions {
  /** Built by the caller with the gateway's own credentials (default chain / IRSA). */
  readonly sts: STSClient
  readonly clock: Clock
  readonly sessionNameClaim?: SessionNameClaim
  /** Refresh this long before the session expires; default 5 minutes. */
  readonly refreshBeforeMs?: number
  /** Requested session length; default 3600 (the role-chaining maximum). */
  readonly durationSeconds?: number
  /** Most sessions kept (one per role and principal), least recently used dropped first; default 1000. */
  readonly maxSessions?: number
}

/** A session this close to expiry is not handed out as a fallback: the request it signs could outlive it. */
const STILL_VALID_MARGIN_MS = 60_000

const STS_NAME_CHARS = /[^\w+=,.@-]/g
const MAX_NAME = 64

/**
 * Maps an identity value to an STS name (`[\w+=,.@-]{2,64}`), deterministically: disallowed
 * characters become `_`; when anything was replaced or cut, an 8-hex hash of the original is
 * appended so different identities never share a name.
 */
export function stsSafeName(value: string, prefix = ''): string {
  const cleaned = value.replace(STS_NAME_CHARS, '_')
  const lossless = cleaned !== '' && cleaned === value && prefix.length + cleaned.length <= MAX_NAME && prefix.length + cleaned.length >= 2
  if (lossless) return prefix + cleaned
  const suffix = '-' + createHash('sha256').update(value).digest('hex').slice(0, 8)
  return prefix + cleaned.slice(0, MAX_NAME - prefix.length - suffix.length) + suffix
}

/** `airlock-` + the chosen claim, made STS-safe. */
export function roleSessionName(principal: Principal, claim: SessionNameClaim = 'sub'): string {
  const value = claim === 'email' ? principal.email : claim === 'name' ? principal.name : principal.subject
  return stsSafeName(value ?? principal.subject, 'airlock-')
}

/** The agent's subject as STS SourceIdentity: it sticks to every chained session and appears in CloudTrail. */
export function sourceIdentity(principal: Principal): string {
  return stsSafeName(principal.subject)
}

interface Cached {
  readonly credentials: AwsCredentialIdentity & { readonly expiration: Date }
}

/**
 * Credentials for per-connection roles: the gateway assumes `roleArn` as itself, tagging the session
 * with the agent's identity (RoleSessionName + SourceIdentity). Cached per (role, issuer, subject),
 * at most `maxSessions` of them and none past its expiry, until `refreshBeforeMs` before expiry; concurrent callers share one AssumeRole call. When a refresh
 * fails for any reason but a refusal, the cached session is used while it has a minute left.
 * @throws UpstreamError AWS_DENIED when STS refuses, AWS_CREDENTIALS for anything else.
 */
export function createRoleCredentials(options: RoleCredentialsOptions): (roleArn: string, target: AwsTarget) => AwsCredentialIdentityProvider {
  const refreshBefore = options.refreshBeforeMs ?? 5 * 60_000
  const cache = createBoundedCache<Cached>({
    maxEntries: options.maxSessions ?? 1000,
    clock: options.clock,
    // Expired sessions leave, so the cache does not grow with every subject ever seen.
    expiresAt: (session) => session.credentials.expiration.getTime(),
  })
  const inflight = new Map<string, Promise<Cached>>()

  async function assume(roleArn: string, principal: Principal): Promise<Cached> {
    let out
    try {
      out = await options.sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: roleSessionName(principal, options.sessionNameClaim),
          SourceIdentity: sourceIdentity(principal),
          DurationSeconds: options.durationSeconds ?? 3600,
        }),
      )
    } catch (error) {
      const name = error instanceof Error ? error.name : ''
      if (name === 'AccessDenied' || name === 'AccessDeniedException') {
        throw new UpstreamError('AWS_DENIED', `STS refused AssumeRole on ${roleArn}: check the role's trust policy allows the gateway role with sts:SetSourceIdentity`, { cause: error })
      }
      throw new UpstreamError('AWS_CREDENTIALS', `AssumeRole on ${roleArn} failed (${name || 'unknown error'})`, { cause: error })
    }
    const c = out.Credentials
    if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined || c.SessionToken === undefined || c.Expiration === undefined) {
      throw new UpstreamError('AWS_CREDENTIALS', `AssumeRole on ${roleArn} returned no usable credentials`)
    }
    return { credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration } }
  }

  return function roleCredentials(roleArn, target) {
    // Sessions are global (STS is not regional in what it returns), so the region is not part of the key.
    const key = [roleArn, target.principal.issuer, target.principal.subject] as const
    const inflightKey = cacheKeyText(key)
    return async function assumedRoleProvider() {
      const hit = cache.get(key)
      if (hit !== undefined && options.clock.now() < hit.credentials.expiration.getTime() - refreshBefore) return hit.credentials
      let pending = inflight.get(inflightKey)
      if (pending === undefined) {
        pending = assume(roleArn, target.principal)
          .then((fresh) => {
            cache.set(key, fresh)
            return fresh
          })
          .finally(() => inflight.delete(inflightKey))
        inflight.set(inflightKey, pending)
      }
      try {
        return (await pending).credentials
      } catch (error) {
        // STS unreachable or failing while the current session is still valid: keep using it (as the
        // SDK's own providers do) and try again on the next call. A refusal is never papered over.
        const stillValid = hit !== undefined && options.clock.now() < hit.credentials.expiration.getTime() - STILL_VALID_MARGIN_MS
        if (stillValid && error instanceof UpstreamError && error.code === 'AWS_CREDENTIALS') return hit.credentials
        throw error
      }
    }
  }
}
