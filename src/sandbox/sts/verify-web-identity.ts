import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose'
import type { Clock } from '../../clock.js'
import { stsFault, type StsFault } from './sts-fault.js'
import type { WebIdentityTrust } from './sts-roles.js'

/** An IAM OIDC identity provider: the issuer URL and where its signing keys are. */
export interface OidcProviderConfig {
  readonly issuer: string
  readonly jwksUri?: string
  readonly keys?: JSONWebKeySet
}

export interface VerifiedWebIdentity {
  readonly issuer: string
  readonly subject: string
  readonly audience: string
}

export type WebIdentityVerifier = (token: string, trust: WebIdentityTrust) => Promise<VerifiedWebIdentity | StsFault>

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512']

/**
 * Checks a web identity token as IAM does for AssumeRoleWithWebIdentity: a registered provider for
 * its `iss`, a signature from that provider's JWKS, `exp`, the trust's audience, then the trust's
 * subjects. Returns a fault (InvalidIdentityToken, ExpiredTokenException, AccessDenied) instead of throwing.
 */
export function createWebIdentityVerifier(deps: { readonly providers: readonly OidcProviderConfig[]; readonly clock: Clock }): WebIdentityVerifier {
  const keySets = new Map<string, JWTVerifyGetKey>()
  for (const provider of deps.providers) {
    const issuer = provider.issuer.replace(/\/$/, '')
    if (provider.keys !== undefined) keySets.set(issuer, createLocalJWKSet(provider.keys))
    else if (provider.jwksUri !== undefined) keySets.set(issuer, createRemoteJWKSet(new URL(provider.jwksUri)))
    else throw new TypeError(`OIDC provider ${provider.issuer} needs jwksUri or keys`)
  }

  return async function verifyWebIdentity(token, trust) {
    let claimedIssuer: unknown
    try {
      claimedIssuer = decodeJwt(token).iss
    } catch {
      return stsFault('InvalidIdentityToken', 'The web identity token is not a valid JWT.')
    }
    if (typeof claimedIssuer !== 'string') return stsFault('InvalidIdentityToken', 'The web identity token has no issuer.')
    const issuer = claimedIssuer.replace(/\/$/, '')
    const keys = keySets.get(issuer)
    if (keys === undefined) return stsFault('InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${issuer}`)
    let payload
    try {
      ;({ payload } = await jwtVerify(token, keys, {
        issuer: [issuer, `${issuer}/`],
        algorithms: ALGORITHMS,
        currentDate: new Date(deps.clock.now()),
        requiredClaims: ['exp', 'sub', 'aud'],
      }))
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        return stsFault('ExpiredTokenException', 'Token expired: current date/time must be before the expiration date/time.')
      }
      if (error instanceof errors.JOSEError && (error.code === 'ERR_JWKS_TIMEOUT' || error.code === 'ERR_JOSE_GENERIC')) {
        return stsFault('InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider.')
      }
      return stsFault('InvalidIdentityToken', 'The web identity token could not be verified.')
    }
    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? [])
    if (!audiences.includes(trust.audience)) return stsFault('InvalidIdentityToken', 'Incorrect token audience')
    const subject = payload.sub ?? ''
    if (trust.issuer.replace(/\/$/, '') !== issuer || !trust.subjects.includes(subject)) {
      return stsFault('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
    }
    return { issuer, subject, audience: trust.audience }
  }
}

export function isStsFault(value: object): value is StsFault {
  return 'code' in value && 'status' in value
}
