import { randomUUID } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose'
import type { AuthFailure } from '../errors.js'
import type { IssuerKeyInfo } from './forge-probe-tokens.js'

/** One probe of the token profile: tokens that must each be refused for one of `expected`, or why it cannot run. */
export type ProfileProbe =
  | {
      readonly id: string
      readonly label: string
      readonly tokens: readonly string[]
      readonly expected: readonly AuthFailure[]
      /** How an accepted token is reported: FAIL where the default profile refuses, WARN where pinning is optional. */
      readonly whenAccepted: 'FAIL' | 'WARN'
      /** What an accepted token says about the gateway. */
      readonly acceptedMeans: string
      /** Refused as `bad_signature` proves the header was let through (tokens signed by a key the gateway does not trust). */
      readonly signatureRefusalFails: boolean
    }
  | { readonly id: string; readonly label: string; readonly skipped: 'PASS' | 'WARN'; readonly reason: string }

export interface ProfileProbes {
  /** A conforming token signed with the trusted key: it must be accepted for the probes to be conclusive. */
  readonly control: string | undefined
  readonly probes: readonly ProfileProbe[]
}

export interface ForgeProfileProbesInput {
  /** Plausible claims (issuer, audience, subject) used when there is no template. */
  readonly claims: Readonly<Record<string, unknown>>
  readonly issuerKeys: readonly IssuerKeyInfo[]
  /** What the issuer's metadata declares it signs with, for keys whose JWK names no `alg`. */
  readonly declaredAlgorithms?: readonly string[]
  readonly nowSeconds: number
  /** A private JWK (with `kid`) the issuer publishes, and a valid token whose claims conforming tokens copy. */
  readonly signingKey?: JWK
  readonly template?: string
}

const TEN_YEARS = 10 * 365 * 86_400
const WRONG_TYPES = ['secevent+jwt', 'logout+jwt', 'dpop+jwt'] as const
const PROBE_CLIENT = 'airlock-verify-probe-client'
/** Claims kept when the others are stripped: what no resource pins a value of. */
const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'azp', 'scope', 'scp', 'auth_time'])

function defaultAlg(key: { readonly kty?: string; readonly crv?: string | undefined; readonly alg?: string | undefined }): string {
  if (typeof key.alg === 'string') return key.alg
  if (key.kty === 'EC') return key.crv === 'P-384' ? 'ES384' : key.crv === 'P-521' ? 'ES512' : 'ES256'
  return key.kty === 'OKP' ? 'EdDSA' : 'RS256'
}

const RSA_ALGS = ['PS256', 'RS512', 'RS256', 'PS512', 'RS384', 'PS384'] as const

/**
 * Two RSA algorithms the issuer does not declare for the key: not its JWK `alg`, or (without one)
 * not in the metadata's list (RS256, the OpenID Connect default, when there is none).
 */
function alternateRsaAlgs(keyAlg: string | undefined, declared: readonly string[] | undefined): readonly string[] {
  const used = keyAlg !== undefined ? [keyAlg] : declared ?? ['RS256']
  return RSA_ALGS.filter((alg) => !used.includes(alg)).slice(0, 2)
}

interface Signer {
  sign(header: Readonly<Record<string, unknown>>, claims: Readonly<Record<string, unknown>>, alg?: string): Promise<string>
}

function signerFor(kid: string | undefined, alg: string, keyFor: (alg: string) => Promise<CryptoKey | Uint8Array>): Signer {
  return {
    async sign(header, claims, withAlg = alg) {
      const protectedHeader = Object.fromEntries(Object.entries({ kid, ...header, alg: withAlg }).filter(([, v]) => v !== undefined))
      return new SignJWT({ ...claims }).setProtectedHeader({ ...protectedHeader, alg: withAlg }).sign(await keyFor(withAlg))
    },
  }
}

/** A fresh key of the issuer key's type carrying its kid: refused for its signature unless a header check refuses it first. */
async function attackerSigner(issuerKey: IssuerKeyInfo | undefined): Promise<Signer> {
  const alg = defaultAlg(issuerKey ?? { kty: 'RSA' })
  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(privateKey)
  return signerFor(issuerKey?.kid ?? 'airlock-verify-unknown-key', alg, (withAlg) => importJWK(jwk, withAlg))
}

/** The RSA algorithm substitution probe: the issuer's RSA key (its kid) under algorithms the issuer does not declare for it. */
async function substitutionProbe(
  rsaKey: { readonly kid: string | undefined; readonly alg: string | undefined } | undefined,
  keysKnown: boolean,
  declared: readonly string[] | undefined,
  sign: (alg: string) => Promise<string>,
  untrusted: boolean,
): Promise<ProfileProbe> {
  const id = 'gateway.alg-substitution'
  const label = 'RSA algorithm substitution'
  if (rsaKey === undefined) {
    return keysKnown
      ? { id, label, skipped: 'PASS', reason: 'the key signs with no RSA algorithm: nothing to substitute' }
      : { id, label, skipped: 'WARN', reason: "the issuer's keys could not be fetched" }
  }
  const algs = alternateRsaAlgs(rsaKey.alg, declared)
  if (algs.length === 0) {
    return { id, label, skipped: 'WARN', reason: 'the issuer declares every RSA algorithm and its key names none, so each verifies: narrow them with the algorithms setting' }
  }
  return {
    id,
    label: `the issuer's RSA key${rsaKey.kid === undefined ? '' : ` (${rsaKey.kid})`} under ${algs.join(', ')}`,
    tokens: await Promise.all(algs.map(sign)),
    expected: ['alg_not_declared', 'alg_not_allowed'],
    whenAccepted: 'FAIL',
    acceptedMeans: 'the key verifies tokens under an algorithm its issuer does not use',
    signatureRefusalFails: untrusted,
  }
}

/**
 * The tokens `airlock verify --gateway` sends to probe the token profile: wrong `typ`, the issuer's
 * RSA key under another RSA algorithm, and (with a key the issuer publishes and a valid token to
 * copy claims from) an over-long lifetime, another client and a token stripped of its other claims.
 * Without that key, header probes are signed by a fresh key bearing the issuer's `kid`, so only a
 * header check can refuse them for the right reason; claim probes are skipped.
 */
export async function forgeProfileProbes(input: ForgeProfileProbesInput): Promise<ProfileProbes> {
  const now = input.nowSeconds
  const { signingKey, template } = input
  const trusted = signingKey !== undefined && template !== undefined
  let claims: Record<string, unknown> = { ...input.claims }
  let typ: unknown = 'at+jwt'
  if (trusted) {
    claims = { ...decodeJwt(template), iat: now, exp: now + 300, jti: randomUUID() }
    delete claims['nbf']
    typ = decodeProtectedHeader(template).typ
  }
  const signer = trusted
    ? signerFor(signingKey.kid, defaultAlg(signingKey), (alg) => importJWK({ ...signingKey, alg }, alg))
    : await attackerSigner(input.issuerKeys[0])
  const conforming = (extra: Readonly<Record<string, unknown>> = {}, header: Readonly<Record<string, unknown>> = {}, alg?: string) =>
    signer.sign({ typ, ...header }, { ...claims, ...extra }, alg)

  const probes: ProfileProbe[] = []
  probes.push({
    id: 'gateway.token-type',
    label: `tokens typed ${WRONG_TYPES.join(', ')}`,
    tokens: await Promise.all(WRONG_TYPES.map((wrong) => conforming({}, { typ: wrong }))),
    expected: ['wrong_token_type'],
    whenAccepted: 'FAIL',
    acceptedMeans: 'the typ header is not checked',
    signatureRefusalFails: !trusted,
  })

  let rsaKey: { readonly kid: string | undefined; readonly alg: string | undefined } | undefined = input.issuerKeys.find((k) => k.kty === 'RSA')
  if (trusted) {
    // What the issuer publishes for the key decides what it declares, not the private JWK's own alg.
    const published = input.issuerKeys.find((k) => k.kid === signingKey.kid)
    rsaKey = signingKey.kty !== 'RSA' ? undefined : { kid: signingKey.kid, alg: published === undefined ? signingKey.alg : published.alg }
  }
  const keysKnown = trusted || input.issuerKeys.length > 0
  const rsaSigner = rsaKey === undefined || trusted ? signer : await attackerSigner({ kty: 'RSA', kid: rsaKey.kid, alg: rsaKey.alg, crv: undefined })
  probes.push(await substitutionProbe(rsaKey, keysKnown, input.declaredAlgorithms, (alg) => rsaSigner.sign({ typ }, claims, alg), !trusted))

  const needsKey = 'not probed: give --signing-key (a private JWK the issuer publishes) and --token (a valid token to copy claims from)'
  if (!trusted) {
    for (const [id, label] of [['gateway.token-lifetime', 'over-long lifetime'], ['gateway.client-pinning', 'another client'], ['gateway.required-claims', 'missing pinned claims']] as const) {
      probes.push({ id, label, skipped: 'WARN', reason: needsKey })
    }
    return { control: undefined, probes }
  }

  const withoutIat: Record<string, unknown> = { ...claims, exp: now + TEN_YEARS }
  delete withoutIat['iat']
  probes.push({
    id: 'gateway.token-lifetime',
    label: 'tokens valid for ten years (with and without iat)',
    tokens: [await conforming({ exp: now + TEN_YEARS }), await signer.sign({ typ }, withoutIat)],
    expected: ['lifetime_too_long'],
    whenAccepted: 'FAIL',
    acceptedMeans: 'no maximum token lifetime is enforced',
    signatureRefusalFails: false,
  })
  probes.push({
    id: 'gateway.client-pinning',
    label: `a token for client ${PROBE_CLIENT}`,
    tokens: [await conforming({ client_id: PROBE_CLIENT, azp: PROBE_CLIENT })],
    expected: ['client_not_allowed'],
    whenAccepted: 'WARN',
    acceptedMeans: 'any client is accepted (allowedClients is not set)',
    signatureRefusalFails: false,
  })
  const stripped = Object.fromEntries(Object.entries(claims).filter(([name]) => REGISTERED.has(name)))
  const removed = Object.keys(claims).filter((name) => !REGISTERED.has(name))
  probes.push(
    removed.length === 0
      ? { id: 'gateway.required-claims', label: 'missing pinned claims', skipped: 'WARN', reason: 'not probed: the --token carries no claim beyond the registered ones' }
      : {
          id: 'gateway.required-claims',
          label: `a token without ${removed.join(', ')}`,
          tokens: [await signer.sign({ typ }, stripped)],
          expected: ['claim_mismatch'],
          whenAccepted: 'WARN',
          acceptedMeans: 'no claim value is pinned (requiredClaims is not set)',
          signatureRefusalFails: false,
        },
  )
  return { control: await conforming(), probes }
}
