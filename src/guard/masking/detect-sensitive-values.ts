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

/** Replaces sensitive substrings in one string; returns the text and which detectors fired. */
export function redactSensitiveText(text: string, settings: DetectorSettings): { text: string; fired: DetectorName[] } {
  const fired = new Set<DetectorName>()
  let out = text
  if (settings.awsKeys) {
    out = out.replace(ACCESS_KEY_ID, () => (fired.add('awsKeys'), '[redacted:aws-access-key-id]'))
    out = out.replace(NAMED_SECRET, (_m, prefix: string) => (fired.add('awsKeys'), `${prefix}[redacted:aws-secret-key]`))
    out = out.replace(SECRET_SHAPE, (token) => (looksLikeSecret(token) ? (fired.add('awsKeys'), '[redacted:aws-secret-key]') : token))
  }
  if (settings.emails) out = out.replace(EMAIL, () => (fired.add('emails'), '[redacted:email]'))
  if (settings.cardNumbers) {
    out = out.replace(CARD, (match) => {
      const digits = match.replace(/[ -]/g, '')
      if (digits.length < 13 || digits.length > 19 || !passesLuhn(digits)) return match
      fired.add('cardNumbers')
      return '[redacted:card]'
    })
  }
  return { text: out, fired: [...fired] }
}
