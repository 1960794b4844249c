import { decodeProtectedHeader, jwtVerify, type ProtectedHeaderParameters } from 'jose'
import { z } from 'zod'
import type { Clock } from '../clock.js'
import { isJwsAlgorithm, type JwsAlgorithm } from '../jws-algorithms.js'
import { AuthError, type AuthFailure } from '../errors.js'
import { classifyJoseError } from './classify-jose-error.js'
import type { KeyResolver } from './jwks-cache.js'
import type { Principal } from './principal.js'
import { readGroupsClaim } from './read-groups-claim.js'
import { readScopeClaims } from './read-scope-claims.js'
import { createTokenProfile, type TokenProfile, type TokenProfileOptions } from './token-profile.js'


/** Header parameters that point at keys chosen by the token's author; never honoured. */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const

/** Largest accepted token, in bytes. */
export const MAX_TOKEN_BYTES = 8 * 1024

/** See TokenVerifierOptions.verifiedTokenTtlMs. */
export const DEFAULT_VERIFIED_TOKEN_TTL_MS = 30_000
/** Most verified tokens remembered; the oldest is forgotten first. */
export const MAX_VERIFIED_TOKENS = 10_000

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

// Loose: an issuer's claims; jose has already checked iss, aud, exp, nbf and iat.
const claimsSchema = z.looseObject({
  iss: z.string(),
  sub: z.string().min(1),
  exp: z.number(),
  iat: z.number().optional(),
  auth_time: z.number().optional(),
})

export interface TokenVerifierOptions {
  readonly issuer: string
  /** This resource's identifier; the token's `aud` must contain it. */
  readonly audience: string
  readonly algorithms: readonly JwsAlgorithm[]
  readonly clockToleranceSeconds: number
  /** Refuse tokens whose `iat` is older than this (then `iat` is required). */
  readonly maxTokenAgeSeconds?: number
  /** Exact claim name or dot path of the groups claim, e.g. `groups`, `realm_access.roles`. */
  readonly groupsClaim: string
  /** Token types, maximum lifetime, clients, scopes and claims the token must match (defaults: see TokenProfileOptions). */
  readonly profile?: TokenProfileOptions
  readonly keys: KeyResolver
  readonly clock: Clock
  /**
   * How long a token once verified is answered from memory (by its exact text) before its
   * signature and claims are checked again; never past its `exp` or maximum age. This bounds how
   * long a key the issuer withdraws keeps working. Default 30 s; 0 verifies every request.
   */
  readonly verifiedTokenTtlMs?: number
}

export interface TokenVerifier {
  /**
   * Verifies an `Authorization` header value and returns the caller's principal.
   * Throws `AuthError` `AUTH_MISSING` (no bearer credentials) or `AUTH_INVALID` with its failure.
   */
  readonly verify: (authorizationHeader: string | undefined) => Promise<Principal>
}

function refuse(failure: AuthFailure, detail: string): AuthError {
  return new AuthError('AUTH_INVALID', failure, `bearer token refused (${failure}): ${detail}`)
}

/** Returns the compact JWT from `Bearer <jwt>` (RFC 6750 §2.1); scheme is case-insensitive. */
function extractToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    throw new AuthError('AUTH_MISSING', 'missing', 'no Authorization header')
  }
  const space = header.indexOf(' ')
  const scheme = space === -1 ? header : header.slice(0, space)
  if (scheme.toLowerCase() !== 'bearer') {
    // RFC 6750 §3.1: an unsupported scheme counts as no authentication information.
    throw new AuthError('AUTH_MISSING', 'missing', 'Authorization header does not use the Bearer scheme')
  }
  const token = space === -1 ? '' : header.slice(space + 1).replace(/^ +/, '')
  if (token === '') throw refuse('malformed', 'Bearer scheme without a token')
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) throw refuse('too_large', `token exceeds ${MAX_TOKEN_BYTES} bytes`)
  if (/\s/.test(token)) throw refuse('malformed', 'more than one credential in the Authorization header')
  if (!COMPACT_JWS.test(token)) throw refuse('malformed', 'not a compact JWS')
  return token
}

function checkHeader(token: string, allowed: ReadonlySet<string>, profile: TokenProfile): void {
  let header: ProtectedHeaderParameters
  try {
    header = decodeProtectedHeader(token)
  } catch {
    throw refuse('malformed', 'protected header is not a JSON object')
  }
  const { alg } = header
  if (typeof alg !== 'string' || alg === '') throw refuse('malformed', 'protected header has no alg')
  if (!allowed.has(alg)) throw refuse('alg_not_allowed', 'alg is not in the allowed list')
  const present = FORBIDDEN_HEADERS.filter((name) => Object.hasOwn(header, name))
  if (present.length > 0) throw refuse('forbidden_header', `protected header carries ${present.join(', ')}`)
  const wrongType = profile.checkType(header)
  if (wrongType !== undefined) throw wrongType
}

function checkAlgorithms(algorithms: readonly string[]): Set<string> {
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty')
  for (const alg of algorithms) {
    if (!isJwsAlgorithm(alg)) {
      throw new TypeError(`algorithm ${JSON.stringify(alg)} cannot be allowed: only asymmetric JWS algorithms are`)
    }
  }
  return new Set(algorithms)
}

/**
 * Builds the bearer-token verifier for tokens from one OIDC issuer (RFC 6750, RFC 7519 §7.2,
 * RFC 9068 §4). Throws `TypeError` at construction for a disallowed algorithm or bad option.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const allowed = checkAlgorithms(options.algorithms)
  const tolerance = options.clockToleranceSeconds
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new TypeError('clockToleranceSeconds must be >= 0')
  const maxAge = options.maxTokenAgeSeconds
  if (maxAge !== undefined && !(Number.isFinite(maxAge) && maxAge > 0)) throw new TypeError('maxTokenAgeSeconds must be > 0')
  if (options.groupsClaim === '') throw new TypeError('groupsClaim must not be empty')
  const profile = createTokenProfile(options.profile)
  const ttlMs = options.verifiedTokenTtlMs ?? DEFAULT_VERIFIED_TOKEN_TTL_MS
  if (!(Number.isFinite(ttlMs) && ttlMs >= 0)) throw new TypeError('verifiedTokenTtlMs must be >= 0')
  // A signature check is most of a request's cost, and an agent sends the same token with every
  // request: the verdict for that exact text is kept briefly. Refusals are never kept.
  const verified = new Map<string, { readonly principal: Principal; readonly untilMs: number }>()

  function remember(token: string, principal: Principal, now: number): void {
    const limits = [now + ttlMs, principal.expiresAt * 1000]
    if (maxAge !== undefined && principal.issuedAt !== undefined) limits.push((principal.issuedAt + maxAge) * 1000)
    const untilMs = Math.min(...limits)
    if (untilMs <= now) return
    if (verified.size >= MAX_VERIFIED_TOKENS) {
      const oldest = verified.keys().next()
      if (oldest.done !== true) verified.delete(oldest.value)
    }
    verified.set(token, { principal: Object.freeze({ ...principal, groups: Object.freeze([...principal.groups]) }), untilMs })
  }

  async function verify(authorizationHeader: string | undefined): Promise<Principal> {
    const token = extractToken(authorizationHeader)
    const now = options.clock.now()
    const known = verified.get(token)
    if (known !== undefined) {
      if (now < known.untilMs) return known.principal
      verified.delete(token)
    }
    const principal = await verifyToken(token, now)
    if (ttlMs > 0) remember(token, principal, now)
    return principal
  }

  async function verifyToken(token: string, now: number): Promise<Principal> {
    checkHeader(token, allowed, profile)
    let payload: Readonly<Record<string, unknown>>
    try {
      const result = await jwtVerify(token, options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: [...allowed],
        clockTolerance: tolerance,
        ...(maxAge === undefined ? {} : { maxTokenAge: maxAge }),
        requiredClaims: ['exp', 'sub'],
        currentDate: new Date(now),
      })
      payload = result.payload
    } catch (error) {
      if (error instanceof AuthError) throw error
      // jose errors carry the claims set; keep them out of the message and the cause chain.
      const failure = classifyJoseError(error)
      throw refuse(failure, error instanceof Error ? error.message : 'verification failed')
    }
    const claims = claimsSchema.safeParse(payload)
    if (!claims.success) throw refuse('invalid_claims', 'sub, iss, exp, iat or auth_time has the wrong type')
    const { iat } = claims.data
    // jose checks a future iat only with maxTokenAge; check it always.
    if (iat !== undefined && iat > Math.floor(now / 1000) + tolerance) {
      throw refuse('not_yet_valid', '"iat" claim is in the future')
    }
    const outsideProfile = profile.checkClaims(payload, { exp: claims.data.exp, iat, now: Math.floor(now / 1000), toleranceSeconds: tolerance })
    if (outsideProfile !== undefined) throw outsideProfile
    const groups = readGroupsClaim(payload, options.groupsClaim)
    if (groups === undefined) throw refuse('invalid_claims', 'groups claim is neither a string nor an array of strings')
    const scopes = readScopeClaims(payload)
    if (!scopes.ok) throw refuse('invalid_claims', `${scopes.claim} claim is neither a string nor an array of strings`)
    const lacking = profile.checkScopes(scopes.scopes)
    if (lacking !== undefined) throw lacking
    const { email, name, jti } = payload
    return {
      issuer: claims.data.iss,
      subject: claims.data.sub,
      groups,
      expiresAt: claims.data.exp,
      ...(iat === undefined ? {} : { issuedAt: iat }),
      ...(scopes.scopes === undefined ? {} : { scopes: scopes.scopes }),
      ...(claims.data.auth_time === undefined ? {} : { authTime: claims.data.auth_time }),
      ...(typeof email === 'string' ? { email } : {}),
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof jti === 'string' ? { tokenId: jti } : {}),
    }
  }

  return { verify }
}
