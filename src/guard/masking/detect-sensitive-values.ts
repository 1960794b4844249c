/** Value detectors a grant can switch on; each replaces what it finds with `[redacted:<kind>]`. */
export type DetectorName = 'awsKeys' | 'emails' | 'cardNumbers'

export interface DetectorSettings {
  readonly awsKeys: boolean
  readonly emails: boolean
  readonly cardNumbers: boolean
}

const ACCESS_KEY_ID = /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}\b/g
/** A secret next to a name that says what it is. */
const NAMED_SECRET = /((?:aws)?_?secret(?:_?access)?_?key["']?\s*[:=]\s*["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi
/** A bare 40-character base64-ish token, the shape of an AWS secret access key. */
const SECRET_SHAPE = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g
// Matches may only start at a boundary: without the lookbehind a long run of address characters
// makes the scan quadratic, and one result cell could stall the gateway for everyone.
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g
/** 13–19 digits, optionally grouped by single spaces or dashes. */
const CARD = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g

/** Luhn (ISO/IEC 7812-1) check digit validation. */
export function passesLuhn(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

/** A bare token counts as a secret only when it mixes character classes (not hex digests or words). */
function looksLikeSecret(token: string): boolean {
  if (/^[0-9a-fA-F]+$/.test(token)) return false
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[/+]/].filter((r) => r.test(token)).length
  return classes >= 3
}

/*
 * The prefilter: each pattern needs what its guard below looks for, so a string without it cannot
 * match and the pattern is not run. Checked against the current text, under the pattern's own
 * flags or wider:
 * - ACCESS_KEY_ID needs one of its ten prefixes (case-sensitive; the `\b`s only narrow it).
 * - NAMED_SECRET (`i`) needs `secret`, tested with `i` too (the same case folding, no `u` in either).
 * - SECRET_SHAPE needs 40 characters of its class in a row (hasSecretRun).
 * - EMAIL needs `@`.
 * - CARD needs its own start: `(?<!\d)\d` and twelve more of `[ -]?\d` (the first 13 digits of a
 *   match); the lookbehind lets the scan try only the first digit of each run.
 * Every pattern but EMAIL matches 13 characters or more (CARD's 13 digits is the shortest), so a
 * shorter string without `@` holds nothing. MAY_HOLD_VALUE joins the rest under `i` (wider for the
 * case-sensitive prefixes): one scan for the common string that holds none.
 */
const KEY_ID_PREFIX = /AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA/
const SECRET_NAME = /secret/i
const CARD_START = /(?<!\d)\d(?:[ -]?\d){12}/
const MAY_HOLD_VALUE = /secret|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA|(?<!\d)\d(?:[ -]?\d){12}/i

/** `[A-Za-z0-9/+]`, SECRET_SHAPE's class. */
function inSecretClass(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 47 && code <= 57) || code === 43
}

/**
 * Whether `text` has 40 characters of SECRET_SHAPE's class in a row (a regex for this retries every
 * start inside a run, hundreds of µs on a large table). It looks at every 40th character: one
 * outside the class means no run crosses it; one inside is widened to its run's ends. Invariant:
 * no run of 40 ends before `i`.
 */
function hasSecretRun(text: string): boolean {
  let i = 39
  while (i < text.length) {
    if (!inSecretClass(text.charCodeAt(i))) {
      i += 40
      continue
    }
    let start = i
    while (start > i - 39 && inSecretClass(text.charCodeAt(start - 1))) start--
    let end = i + 1
    while (end < start + 40 && end < text.length && inSecretClass(text.charCodeAt(end))) end++
    if (end === start + 40) return true
    // text[end] is outside the class (or the text ended): a run of 40 would end at end + 40 or later.
    i = end + 40
  }
  return false
}

/** False only when no value detector could match anywhere in `text` (a cheap necessary condition). */
export function mayHoldSensitiveValue(text: string): boolean {
  if (text.includes('@')) return true
  if (text.length < 13) return false
  return MAY_HOLD_VALUE.test(text) || hasSecretRun(text)
}

/** Replaces sensitive substrings in one string; returns the text and which detectors fired. */
export function redactSensitiveText(text: string, settings: DetectorSettings): { text: string; fired: DetectorName[] } {
  return redactValues(text, settings, true)
}

/** redactSensitiveText without the prefilter: every enabled pattern runs. The reference the prefilter is tested against. */
export function redactSensitiveTextUnfiltered(text: string, settings: DetectorSettings): { text: string; fired: DetectorName[] } {
  return redactValues(text, settings, false)
}

function redactValues(text: string, settings: DetectorSettings, prefilter: boolean): { text: string; fired: DetectorName[] } {
  if (prefilter && !mayHoldSensitiveValue(text)) return { text, fired: [] }
  const fired = new Set<DetectorName>()
  let out = text
  if (settings.awsKeys) {
    if (!prefilter || KEY_ID_PREFIX.test(out)) out = out.replace(ACCESS_KEY_ID, () => (fired.add('awsKeys'), '[redacted:aws-access-key-id]'))
    if (!prefilter || SECRET_NAME.test(out)) out = out.replace(NAMED_SECRET, (_m, prefix: string) => (fired.add('awsKeys'), `${prefix}[redacted:aws-secret-key]`))
    if (!prefilter || hasSecretRun(out)) out = out.replace(SECRET_SHAPE, (token) => (looksLikeSecret(token) ? (fired.add('awsKeys'), '[redacted:aws-secret-key]') : token))
  }
  if (settings.emails && (!prefilter || out.includes('@'))) out = out.replace(EMAIL, () => (fired.add('emails'), '[redacted:email]'))
  if (settings.cardNumbers && (!prefilter || CARD_START.test(out))) {
    out = out.replace(CARD, (match) => {
      const digits = match.replace(/[ -]/g, '')
      if (digits.length < 13 || digits.length > 19 || !passesLuhn(digits)) return match
      fired.add('cardNumbers')
      return '[redacted:card]'
    })
  }
  return { text: out, fired: [...fired] }
}
