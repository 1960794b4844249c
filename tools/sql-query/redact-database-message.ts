import { UpstreamError } from '../../src/errors.js'
import { redactSensitiveText, type DetectorSettings } from '../../src/guard/masking/detect-sensitive-values.js'

const REDACTED = '[redacted]'

/** Where PostgreSQL and MySQL put data values in error text (identifiers stay: they help the agent). */
const VALUE_PATTERNS: readonly [RegExp, string][] = [
  // invalid input syntax for type integer: "alice@example.com" / Truncated incorrect DOUBLE value: 'x'
  [/(:\s*)"(?:[^"]|"")*"/g, `$1"${REDACTED}"`],
  [/(:\s*)'(?:[^'\\]|''|\\.)*'/g, `$1'${REDACTED}'`],
  // Key (email)=(alice@example.com) already exists.
  [/(\([^()]*\)=)\((?:[^()]|\([^()]*\))*\)/g, `$1(${REDACTED})`],
  // Failing row contains (1, alice@example.com, …).
  [/(Failing row contains )\(.*\)/g, `$1(${REDACTED})`],
  // Duplicate entry 'x' for key / Incorrect integer value: 'x' for column
  [/(\b(?:entry|value)\s+)'(?:[^'\\]|''|\\.)*'/gi, `$1'${REDACTED}'`],
]

/**
 * The database's own error text, without the data values it quotes. Otherwise an agent could read
 * masked columns through errors (`SELECT email::int …` → `invalid input syntax …: "alice@…"`).
 * Value detectors then run over what is left.
 */
export function redactDatabaseMessage(message: string, detectors: DetectorSettings): string {
  let text = message
  for (const [pattern, replacement] of VALUE_PATTERNS) text = text.replace(pattern, replacement)
  return redactSensitiveText(text, detectors).text
}

/** The same error with its database text redacted for the caller and the audit (other errors pass through). */
export function withoutDataValues(error: unknown, detectors: DetectorSettings): unknown {
  if (!(error instanceof UpstreamError) || error.publicDetail === undefined) return error
  // The audit records `message`; it must not keep the values the caller may not see either.
  return new UpstreamError(error.code, redactDatabaseMessage(error.message, detectors), { publicDetail: redactDatabaseMessage(error.publicDetail, detectors) })
}
