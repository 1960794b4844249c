/**
 * Credential detectors for tool output, next to the value detectors of detect-sensitive-values:
 * each replaces what it finds with `[redacted:<kind>]`. Every pattern may only start where a
 * token begins (a lookbehind), so a megabyte of lookalike text is scanned in linear time.
 */
export type CredentialDetectorName = 'jwts' | 'privateKeys' | 'namedSecrets'

export interface CredentialDetectorSettings {
  readonly jwts: boolean
  readonly privateKeys: boolean
  readonly namedSecrets: boolean
}

/**
 * A JWS or JWE in compact form: a base64url JSON header (`eyJ` is `{"`) and one to four more
 * dot-separated parts (a cut-off token still counts).
 */
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}(?:\.[A-Za-z0-9_-]*){1,4}/g
/** A PEM private key block, to its END line or, when the output was cut, to the end of the text. */
const PRIVATE_KEY = /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END \1-----|$)/g
// Not `pwd`: PWD is the working directory in every environment listing.
const SECRET_WORD = '(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)'
/**
 * A value after a name ending in a secret word and `=` or `:` (`--db-password=…`, `PGPASSWORD=…`,
 * `"client_secret": "…"`, `auth_token: …`).
 */
const ASSIGNED_SECRET = new RegExp(`((?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]*?${SECRET_WORD}["']?[ \\t]*[:=][ \\t]*["']?)([^\\s"',;&]+)`, 'gi')
/** A long option ending in a secret word, then its value as the next word (`--password hunter2`). */
const SECRET_OPTION = new RegExp(`((?<![A-Za-z0-9_.-])--[A-Za-z0-9_.-]*?${SECRET_WORD}[ \\t]+)(?!-)([^\\s"']+)`, 'gi')
/** The password of a URL's userinfo (`postgres://app:…@db`, `https://x-access-token:…@github.com`). */
const URL_PASSWORD = /((?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)(?=@)/g
/** HTTP credentials written out as a header (`Authorization: Bearer …`, `-H 'authorization: Basic …'`). */
const AUTH_CREDENTIAL = /((?<![A-Za-z0-9_-])(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?[A-Za-z][A-Za-z0-9-]*[ \t]+)([^\s"',;]+)/gi

/*
 * The prefilter: each detector's pattern needs a literal that its guard below looks for, so a string
 * without it cannot match and the pattern is not run. Checked against the current text (an earlier
 * replacement may have written `[redacted:secret]`), and under the pattern's own flags or wider:
 * - JWT needs `eyJ` (case-sensitive).
 * - PRIVATE_KEY needs `-----BEGIN ` (case-sensitive).
 * - URL_PASSWORD needs `://`.
 * - AUTH_CREDENTIAL (`i`) needs `authorization`, tested with `i` too (the same case folding, no `u`
 *   in either, so the same characters match).
 * - SECRET_OPTION and ASSIGNED_SECRET (`i`) both contain SECRET_WORD, tested on its own with `i`.
 * MAY_HOLD_CREDENTIAL joins all of them under `i` (wider for the two case-sensitive ones), one scan
 * for the common case of a string that holds none.
 */
const SECRET_WORD_ANYWHERE = new RegExp(SECRET_WORD, 'i')
const AUTHORIZATION = /authorization/i
const MAY_HOLD_CREDENTIAL = new RegExp(`eyJ|-----BEGIN |://|authorization|${SECRET_WORD}`, 'i')

/** False only when no credential detector could match anywhere in `text` (a cheap necessary condition). */
export function mayHoldCredential(text: string): boolean {
  return MAY_HOLD_CREDENTIAL.test(text)
}

/** Replaces credentials in one string; returns the text and which detectors fired. */
export function redactCredentialText(text: string, settings: CredentialDetectorSettings): { text: string; fired: CredentialDetectorName[] } {
  return redactCredentials(text, settings, true)
}

/** redactCredentialText without the prefilter: every enabled pattern runs. The reference the prefilter is tested against. */
export function redactCredentialTextUnfiltered(text: string, settings: CredentialDetectorSettings): { text: string; fired: CredentialDetectorName[] } {
  return redactCredentials(text, settings, false)
}

function redactCredentials(text: string, settings: CredentialDetectorSettings, prefilter: boolean): { text: string; fired: CredentialDetectorName[] } {
  if (prefilter && !MAY_HOLD_CREDENTIAL.test(text)) return { text, fired: [] }
  const fired = new Set<CredentialDetectorName>()
  let out = text
  if (settings.privateKeys && (!prefilter || out.includes('-----BEGIN '))) out = out.replace(PRIVATE_KEY, () => (fired.add('privateKeys'), '[redacted:private-key]'))
  if (settings.jwts && (!prefilter || out.includes('eyJ'))) out = out.replace(JWT, () => (fired.add('jwts'), '[redacted:jwt]'))
  if (settings.namedSecrets) {
    // The name stays; a value another detector already replaced stays as that detector wrote it.
    const keepName = (match: string, name: string, value: string) => (value.startsWith('[redacted:') ? match : (fired.add('namedSecrets'), `${name}[redacted:secret]`))
    if (!prefilter || out.includes('://')) out = out.replace(URL_PASSWORD, keepName)
    if (!prefilter || AUTHORIZATION.test(out)) out = out.replace(AUTH_CREDENTIAL, keepName)
    if (!prefilter || SECRET_WORD_ANYWHERE.test(out)) out = out.replace(SECRET_OPTION, keepName)
    if (!prefilter || SECRET_WORD_ANYWHERE.test(out)) out = out.replace(ASSIGNED_SECRET, keepName)
  }
  return { text: out, fired: [...fired] }
}
