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

/** Replaces credentials in one string; returns the text and which detectors fired. */
export function redactCredentialText(text: string, settings: CredentialDetectorSettings): { text: string; fired: CredentialDetectorName[] } {
  const fired = new Set<CredentialDetectorName>()
  let out = text
  if (settings.privateKeys) out = out.replace(PRIVATE_KEY, () => (fired.add('privateKeys'), '[redacted:private-key]'))
  if (settings.jwts) out = out.replace(JWT, () => (fired.add('jwts'), '[redacted:jwt]'))
  if (settings.namedSecrets) {
    // The name stays; a value another detector already replaced stays as that detector wrote it.
    const keepName = (match: string, name: string, value: string) => (value.startsWith('[redacted:') ? match : (fired.add('namedSecrets'), `${name}[redacted:secret]`))
    for (const pattern of [URL_PASSWORD, AUTH_CREDENTIAL, SECRET_OPTION, ASSIGNED_SECRET]) out = out.replace(pattern, keepName)
  }
  return { text: out, fired: [...fired] }
}
