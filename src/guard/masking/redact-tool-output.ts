import type { OutputDetectorName, OutputDetectorSettings } from '../../policy/output-detectors.js'
import { redactCredentialText } from './detect-credential-values.js'
import { redactSensitiveText } from './detect-sensitive-values.js'

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
 * one for one, so the structured result keeps its shape and output schema.
 */
export function redactToolOutput(output: { readonly text: string; readonly structured?: Record<string, unknown> | undefined }, settings: OutputDetectorSettings): RedactedOutput {
  const fired = new Set<OutputDetectorName>()
  let redactedStrings = 0
  const anyOn = Object.values(settings).some(Boolean)

  const scrubText = (text: string): string => {
    // Credentials first: a JWT segment or a URL password must not be half-taken by the key or email shapes.
    const credentials = redactCredentialText(text, settings)
    const values = redactSensitiveText(credentials.text, settings)
    const names = [...credentials.fired, ...values.fired]
    if (names.length === 0) return text
    for (const name of names) fired.add(name)
    redactedStrings++
    return values.text
  }
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubText(value)
    if (Array.isArray(value)) return value.map(scrub)
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, scrub(inner)]))
    return value
  }

  if (!anyOn) return { text: output.text, structured: output.structured, report: { detectors: [], redactedStrings: 0 } }
  const text = scrubText(output.text)
  const structured = output.structured === undefined ? undefined : Object.fromEntries(Object.entries(output.structured).map(([key, value]) => [key, scrub(value)]))
  return { text, structured, report: { detectors: [...fired].sort(), redactedStrings } }
}
