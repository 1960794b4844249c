import type { OutputDetectorName, OutputDetectorSettings } from '../../policy/output-detectors.js'
import { mayHoldCredential, redactCredentialText } from './detect-credential-values.js'
import { mayHoldSensitiveValue, redactSensitiveText } from './detect-sensitive-values.js'

/** What the detectors did to one tool result, for the audit record (names and counts, never values). */
export interface OutputRedactionReport {
  readonly detectors: readonly OutputDetectorName[]
  /** Strings changed (the text, and each string inside the structured result). */
  readonly redactedStrings: number
}

export interface RedactedOutput {
  readonly text: string
  readonly structured: Record<string, unknown> | undefined
  readonly report: OutputRedactionReport
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Runs the enabled value and credential detectors over a tool's text and every string inside its
 * structured result (object keys are the tool's own field names and stay). Strings are replaced
 * one for one, so the structured result keeps its shape and output schema; an object or array with
 * nothing to replace is returned as it came, not copied.
 */
export function redactToolOutput(output: { readonly text: string; readonly structured?: Record<string, unknown> | undefined }, settings: OutputDetectorSettings): RedactedOutput {
  const fired = new Set<OutputDetectorName>()
  let redactedStrings = 0
  const anyOn = Object.values(settings).some(Boolean)

  const scrubText = (text: string): string => {
    // Most strings hold nothing any detector could match: a scan or two, no allocation. A pass that
    // cannot match would change nothing, so the value pass may then see the text as it came. (One
    // gate over all the strings joined measured no faster on a 50-pod list: the scan costs per
    // character, and string by string the value gate often stops at the length or an `@`.)
    const mayHoldCredentials = mayHoldCredential(text)
    if (!mayHoldCredentials && !mayHoldSensitiveValue(text)) return text
    // Credentials first: a JWT segment or a URL password must not be half-taken by the key or email shapes.
    const credentials = mayHoldCredentials ? redactCredentialText(text, settings) : { text, fired: [] }
    const values = redactSensitiveText(credentials.text, settings)
    const names = [...credentials.fired, ...values.fired]
    if (names.length === 0) return text
    for (const name of names) fired.add(name)
    redactedStrings++
    return values.text
  }
  // A container none of whose strings changed is returned as it is rather than copied.
  const scrubArray = (value: readonly unknown[]): readonly unknown[] => {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) continue
      const inner = value[i]
      const scrubbed = scrub(inner)
      if (scrubbed !== inner) out ??= value.slice(0, i)
      if (out !== undefined) out[i] = scrubbed
    }
    if (out === undefined) return value
    out.length = value.length
    return out
  }
  const scrubRecord = (value: Record<string, unknown>): Record<string, unknown> => {
    // Each value is read once (Object.values), so what is written is what was scrubbed.
    const keys = Object.keys(value)
    const values = Object.values(value)
    let changed = false
    for (let i = 0; i < values.length; i++) {
      const scrubbed = scrub(values[i])
      if (scrubbed === values[i]) continue
      values[i] = scrubbed
      changed = true
    }
    return changed ? Object.fromEntries(values.map((inner, i) => [keys[i], inner])) : value
  }
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubText(value)
    if (Array.isArray(value)) return scrubArray(value)
    if (isPlainObject(value)) return scrubRecord(value)
    return value
  }

  if (!anyOn) return { text: output.text, structured: output.structured, report: { detectors: [], redactedStrings: 0 } }
  const text = scrubText(output.text)
  const structured = output.structured === undefined ? undefined : scrubRecord(output.structured)
  return { text, structured, report: { detectors: [...fired].sort(), redactedStrings } }
}
