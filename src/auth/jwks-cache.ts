import { createLocalJWKSet, errors, type CryptoKey, type FlattenedJWSInput, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose'
import { z } from 'zod'
import type { Clock } from '../clock.js'
import { AuthError, UpstreamError } from '../errors.js'
import { checkKeyAlgorithm } from './check-key-algorithm.js'
import { fetchIdpDocument, type FetchLike } from './fetch-idp-document.js'
import { DEFAULT_DISCOVERY_TIMEOUT_MS, discoverIssuer } from './oidc-discovery.js'
import { parseIssuerUrl } from './secure-url.js'

/** Resolves the verification key for a token's protected header; the shape `jwtVerify` accepts. */
export type KeyResolver = (protectedHeader: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>

export interface JwksCacheOptions {
  readonly issuer: string
  readonly clock: Clock
  readonly fetch?: FetchLike
  readonly timeoutMs?: number
  /** Once keys are held: minimum time between two fetch attempts (unknown `kid`, failures). Default 30 s. */
  readonly cooldownMs?: number
  /**
   * While no key set was ever fetched: wait after the first failed attempt, doubled after each
   * further one up to `unavailableRetryMaxMs`. Defaults 1 s and 2 s. Refused callers are told
   * when the next attempt will be (`AuthError.retryAfterSeconds`).
   */
  readonly unavailableRetryMs?: number
  readonly unavailableRetryMaxMs?: number
  /** Age after which known keys are refreshed in the background on the next request. Default 10 min. */
  readonly refreshIntervalMs?: number
  readonly allowInsecureLoopback?: boolean
  /** Told about every failed refresh (for logs). The error never contains a token. */
  readonly onRefreshError?: (error: UpstreamError) => void
  /** Told the result of every discovery + JWKS fetch attempt (for metrics). */
  readonly onRefresh?: (result: 'ok' | 'error') => void
}

export interface JwksCache {
  /** The key resolver to hand to `jwtVerify` (or to `createTokenVerifier` as `keys`). */
  readonly getKey: KeyResolver
  /** Fetches discovery and JWKS now, unless an attempt is in the cooldown; true when keys are held. */
  readonly refresh: () => Promise<boolean>
  /** Whether a key set is held (once fetched, kept through later failures). */
  readonly hasKeys: () => boolean
}

export const DEFAULT_JWKS_COOLDOWN_MS = 30_000
export const DEFAULT_UNAVAILABLE_RETRY_MS = 1_000
export const DEFAULT_UNAVAILABLE_RETRY_MAX_MS = 2_000
export const DEFAULT_JWKS_REFRESH_INTERVAL_MS = 10 * 60_000

// Loose: only `keys` must be an array of objects naming a `kty`; jose checks the rest.
const jwksSchema = z.looseObject({ keys: z.array(z.looseObject({ kty: z.string() })) })

/** The issuer's keys as fetched, with the algorithms its discovery document declares. */
interface HeldKeys {
  readonly select: ReturnType<typeof createLocalJWKSet>
  readonly keys: readonly JWK[]
  readonly declared: readonly string[] | undefined
}

/**
 * A cached, self-refreshing view of the issuer's JWKS (RFC 7517) found through OIDC discovery.
 * Known keys keep working while the issuer is down; an unknown `kid` refetches at most once per
 * cooldown; with no key set ever fetched every token is refused (fail closed), and the next
 * request after a short backoff (capped at `unavailableRetryMaxMs`) tries the issuer again.
 * A key verifies only the algorithms its issuer declares for it (see checkKeyAlgorithm).
 * `getKey` throws `AuthError` `AUTH_INVALID` with failure `unknown_key`, `alg_not_declared` or
 * `issuer_unavailable`.
 * Throws `TypeError` at construction for an invalid issuer or durations.
 */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const allowInsecureLoopback = options.allowInsecureLoopback ?? false
  parseIssuerUrl(options.issuer, allowInsecureLoopback)
  const cooldownMs = options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS
  const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_JWKS_REFRESH_INTERVAL_MS
  if (!(cooldownMs >= 0) || !(refreshIntervalMs > 0)) throw new TypeError('cooldownMs and refreshIntervalMs must be positive')
  const retryMs = options.unavailableRetryMs ?? DEFAULT_UNAVAILABLE_RETRY_MS
  const retryMaxMs = options.unavailableRetryMaxMs ?? DEFAULT_UNAVAILABLE_RETRY_MAX_MS
  if (!(retryMs > 0) || !(retryMaxMs >= retryMs)) throw new TypeError('unavailableRetryMs must be positive and at most unavailableRetryMaxMs')
  const fetchImpl = options.fetch ?? globalThis.fetch
  const timeoutMs = options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS
  const { clock } = options

  let keySet: HeldKeys | undefined
  let fetchedAt = 0
  let jwksUri: string | undefined
  let declared: readonly string[] | undefined
  /** No attempt before this instant (epoch ms). */
  let nextAttemptAt = Number.NEGATIVE_INFINITY
  /** Failed attempts in a row while no key set is held (drives the short backoff). */
  let coldFailures = 0
  let lastError: UpstreamError | undefined
  let inflight: Promise<boolean> | undefined

  async function load(): Promise<void> {
    // Discovery is redone after a failure so a moved jwks_uri is picked up.
    if (jwksUri === undefined) {
      const metadata = await discoverIssuer({ issuer: options.issuer, fetch: fetchImpl, timeoutMs, allowInsecureLoopback })
      jwksUri = metadata.jwksUri
      declared = metadata.signingAlgorithms
    }
    const body = await fetchIdpDocument(jwksUri, { fetch: fetchImpl, timeoutMs })
    const parsed = jwksSchema.safeParse(body)
    if (!parsed.success) {
      throw new UpstreamError('OIDC_INVALID', `JWKS at ${jwksUri} is not a key set`, { cause: parsed.error })
    }
    const jwks: JSONWebKeySet = { keys: parsed.data.keys }
    try {
      keySet = { select: createLocalJWKSet(jwks), keys: structuredClone(parsed.data.keys), declared }
    } catch (cause) {
      throw new UpstreamError('OIDC_INVALID', `JWKS at ${jwksUri} is malformed`, { cause })
    }
    fetchedAt = clock.now()
  }

  function report(result: 'ok' | 'error'): void {
    try {
      options.onRefresh?.(result)
    } catch {
      // Metrics must not turn a refresh into an unhandled rejection.
    }
  }

  function attempt(): Promise<boolean> {
    const startedAt = clock.now()
    // Set before the fetch, so requests meanwhile join it instead of starting their own.
    nextAttemptAt = startedAt + cooldownMs
    inflight = load().then(
      () => {
        lastError = undefined
        coldFailures = 0
        report('ok')
        return true
      },
      (error: unknown) => {
        jwksUri = undefined
        if (keySet === undefined) {
          // Nothing to serve from: retry soon (the 30 s cooldown protects a healthy issuer, not a down one).
          coldFailures += 1
          nextAttemptAt = clock.now() + Math.min(retryMs * 2 ** (coldFailures - 1), retryMaxMs)
        }
        lastError =
          error instanceof UpstreamError
            ? error
            : new UpstreamError('OIDC_UNAVAILABLE', `refreshing keys for ${options.issuer} failed`, { cause: error })
        try {
          options.onRefreshError?.(lastError)
        } catch {
          // A failing logger must not turn a refresh failure into an unhandled rejection.
        }
        report('error')
        return keySet !== undefined
      },
    )
    void inflight.finally(() => {
      inflight = undefined
    })
    return inflight
  }

  function inCooldown(): boolean {
    return clock.now() < nextAttemptAt
  }

  /** Joins a running attempt, or starts one when the cooldown allows. */
  async function refresh(): Promise<boolean> {
    if (inflight !== undefined) return inflight
    if (inCooldown()) return keySet !== undefined
    return attempt()
  }

  function unavailable(): AuthError {
    const message = `bearer token refused (issuer_unavailable): no signing keys for ${options.issuer} could be fetched`
    // When the next attempt is due: a client retrying then gets the first answer from a recovered issuer.
    const waitMs = Math.min(Math.max(nextAttemptAt - clock.now(), 0), retryMaxMs)
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000))
    return new AuthError('AUTH_INVALID', 'issuer_unavailable', message, { cause: lastError, retryAfterSeconds })
  }

  function unknownKey(cause: unknown): AuthError {
    const message = 'bearer token refused (unknown_key): no key in the issuer JWKS matches the token kid and alg'
    return new AuthError('AUTH_INVALID', 'unknown_key', message, { cause })
  }

  async function resolve(held: HeldKeys, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    // jose reads the unprotected header too; so does this check.
    if (checkKeyAlgorithm(held.keys, { ...header, ...token.header }, held.declared) === 'not_declared') {
      const message = 'bearer token refused (alg_not_declared): the issuer does not declare the token alg for the key it selects'
      throw new AuthError('AUTH_INVALID', 'alg_not_declared', message)
    }
    try {
      return await held.select(header, token)
    } catch (error) {
      // Several keys for one kid/alg is ambiguous: refuse rather than try each.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw unknownKey(error)
      }
      throw error
    }
  }

  async function getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    if (keySet === undefined) {
      await refresh()
      if (keySet === undefined) throw unavailable()
    } else if (clock.now() - fetchedAt >= refreshIntervalMs && inflight === undefined && !inCooldown()) {
      // Stale but usable: refresh in the background, answer from what we hold.
      void attempt()
    }
    const held = keySet
    try {
      return await resolve(held, header, token)
    } catch (error) {
      // A known key under another alg is not fixed by fetching the keys again.
      if (!(error instanceof AuthError) || error.failure !== 'unknown_key') throw error
      await refresh()
      if (keySet === held) throw error
      return resolve(keySet, header, token)
    }
  }

  return { getKey, refresh, hasKeys: () => keySet !== undefined }
}
