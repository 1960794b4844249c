import { z } from 'zod'

/** The value detectors run over tool output; each is on unless a grant turns it off. */
export const OUTPUT_DETECTORS = ['awsKeys', 'emails', 'cardNumbers', 'jwts', 'privateKeys', 'namedSecrets'] as const
export type OutputDetectorName = (typeof OUTPUT_DETECTORS)[number]
export type OutputDetectorSettings = Readonly<Record<OutputDetectorName, boolean>>

export const ALL_OUTPUT_DETECTORS: OutputDetectorSettings = { awsKeys: true, emails: true, cardNumbers: true, jwts: true, privateKeys: true, namedSecrets: true }

/**
 * A grant's `detectors` block: which value detectors run over the output of every tool it allows
 * (`false` turns one off; the rest stay on). `sql.detectors` can turn some off further for
 * `sql_query`; neither can turn on what the other turned off.
 */
export const outputDetectorsSchema = z.strictObject({
  awsKeys: z.boolean().default(true),
  emails: z.boolean().default(true),
  cardNumbers: z.boolean().default(true),
  jwts: z.boolean().default(true),
  privateKeys: z.boolean().default(true),
  namedSecrets: z.boolean().default(true),
})

/** The detectors that run: those on in `grantLevel` (all when absent) and not turned off by `narrower`. */
export function resolveOutputDetectors(
  grantLevel: OutputDetectorSettings | undefined,
  narrower: Partial<Record<OutputDetectorName, boolean>> = {},
): OutputDetectorSettings {
  const base = grantLevel ?? ALL_OUTPUT_DETECTORS
  return {
    awsKeys: base.awsKeys && narrower.awsKeys !== false,
    emails: base.emails && narrower.emails !== false,
    cardNumbers: base.cardNumbers && narrower.cardNumbers !== false,
    jwts: base.jwts && narrower.jwts !== false,
    privateKeys: base.privateKeys && narrower.privateKeys !== false,
    namedSecrets: base.namedSecrets && narrower.namedSecrets !== false,
  }
}
