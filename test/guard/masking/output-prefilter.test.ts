import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mayHoldCredential, redactCredentialText, redactCredentialTextUnfiltered } from '../../../src/guard/masking/detect-credential-values.js'
import { mayHoldSensitiveValue, redactSensitiveText, redactSensitiveTextUnfiltered } from '../../../src/guard/masking/detect-sensitive-values.js'
import { redactToolOutput, type RedactedOutput } from '../../../src/guard/masking/redact-tool-output.js'
import { ALL_OUTPUT_DETECTORS, OUTPUT_DETECTORS, type OutputDetectorSettings } from '../../../src/policy/output-detectors.js'
import { fixtureStrings, nearMisses, randomStrings, seededRandom } from './prefilter-corpus.js'

/** redactToolOutput as it was before the prefilter: every pass on every string, every container copied. */
function unfilteredRedactToolOutput(output: { text: string; structured?: Record<string, unknown> }, settings: OutputDetectorSettings): RedactedOutput {
  const fired = new Set<string>()
  let redactedStrings = 0
  const scrubText = (text: string): string => {
    const credentials = redactCredentialTextUnfiltered(text, settings)
    const values = redactSensitiveTextUnfiltered(credentials.text, settings)
    const names = [...credentials.fired, ...values.fired]
    if (names.length === 0) return text
    for (const name of names) fired.add(name)
    redactedStrings++
    return values.text
  }
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubText(value)
    if (Array.isArray(value)) return value.map(scrub)
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, scrub(inner)]))
    return value
  }
  if (!Object.values(settings).some(Boolean)) return { text: output.text, structured: output.structured, report: { detectors: [], redactedStrings: 0 } }
  const text = scrubText(output.text)
  const structured = output.structured === undefined ? undefined : Object.fromEntries(Object.entries(output.structured).map(([key, value]) => [key, scrub(value)]))
  return { text, structured, report: { detectors: [...fired].sort() as RedactedOutput['report']['detectors'], redactedStrings } }
}

const fixtures = fixtureStrings()
const crafted = nearMisses()
const random = randomStrings(4000, 0x5eed)
// Whole test files' worth of text in one string, so patterns also meet each other's pieces.
const joined = [fixtures.join(' '), fixtures.join('\n'), fixtures.join(''), JSON.stringify(crafted), crafted.join('\n')]
const corpus = [...fixtures, ...crafted, ...random, ...joined]

/** Settings to compare under: all on, each alone, and seeded subsets. */
function settingsToTry(): OutputDetectorSettings[] {
  const pick = seededRandom(7)
  const alone = OUTPUT_DETECTORS.map((name) => ({ ...Object.fromEntries(OUTPUT_DETECTORS.map((n) => [n, false])), [name]: true }) as OutputDetectorSettings)
  const subsets = Array.from({ length: 6 }, () => Object.fromEntries(OUTPUT_DETECTORS.map((n) => [n, pick() < 0.5])) as OutputDetectorSettings)
  return [ALL_OUTPUT_DETECTORS, ...alone, ...subsets]
}

describe('the output prefilter changes no result', () => {
  it('collects the fixtures of the existing masking tests', () => {
    assert.ok(fixtures.length > 300, `expected the masking tests' literals, got ${fixtures.length}`)
    assert.ok(fixtures.includes('AKIAIOSFODNN7EXAMPLE') && fixtures.includes('PGPASSWORD=s3cr3t psql -h db'), 'known fixtures are in the corpus')
  })

  it('each gate is false only where its detectors find nothing (necessary condition, every corpus string)', () => {
    for (const text of corpus) {
      if (!mayHoldCredential(text)) assert.deepEqual(redactCredentialTextUnfiltered(text, ALL_OUTPUT_DETECTORS), { text, fired: [] }, `credential gate missed ${JSON.stringify(text.slice(0, 200))}`)
      if (!mayHoldSensitiveValue(text)) assert.deepEqual(redactSensitiveTextUnfiltered(text, ALL_OUTPUT_DETECTORS), { text, fired: [] }, `value gate missed ${JSON.stringify(text.slice(0, 200))}`)
    }
  })

  it('each detector family gives the same text and names with and without the prefilter', () => {
    for (const settings of settingsToTry()) {
      for (const text of corpus) {
        assert.deepEqual(redactCredentialText(text, settings), redactCredentialTextUnfiltered(text, settings), `credentials differ on ${JSON.stringify(text.slice(0, 200))}`)
        assert.deepEqual(redactSensitiveText(text, settings), redactSensitiveTextUnfiltered(text, settings), `values differ on ${JSON.stringify(text.slice(0, 200))}`)
      }
    }
  })

  it('redactToolOutput gives the same text, structured result and report', () => {
    const pick = seededRandom(42)
    const at = () => corpus[Math.floor(pick() * corpus.length)] ?? ''
    const value = (depth: number): unknown => {
      const kind = pick()
      if (depth > 2 || kind < 0.5) return at()
      if (kind < 0.6) return [null, 7, true][Math.floor(pick() * 3)]
      if (kind < 0.8) return Array.from({ length: Math.floor(pick() * 5) }, () => value(depth + 1))
      return Object.fromEntries(Array.from({ length: Math.floor(pick() * 5) }, (_, i) => [`k${i}`, value(depth + 1)]))
    }
    const settingsList = settingsToTry()
    for (let i = 0; i < 1500; i++) {
      const output = { text: at(), structured: { rows: value(0), note: at(), count: i } }
      const settings = settingsList[i % settingsList.length] ?? ALL_OUTPUT_DETECTORS
      assert.deepStrictEqual(redactToolOutput(output, settings), unfilteredRedactToolOutput(output, settings), `differs on case ${i}`)
    }
  })

  it('the random corpus exercises every detector, so the comparison above can fail', () => {
    const markers = ['[redacted:jwt]', '[redacted:private-key]', '[redacted:secret]', '[redacted:aws-access-key-id]', '[redacted:aws-secret-key]', '[redacted:email]', '[redacted:card]']
    const counts = new Map(markers.map((m) => [m, 0]))
    for (const text of random) {
      const values = redactSensitiveTextUnfiltered(redactCredentialTextUnfiltered(text, ALL_OUTPUT_DETECTORS).text, ALL_OUTPUT_DETECTORS).text
      for (const marker of markers) if (values.includes(marker) && !text.includes(marker)) counts.set(marker, (counts.get(marker) ?? 0) + 1)
    }
    for (const [marker, count] of counts) assert.ok(count >= 10, `${marker} appeared in only ${count} random strings`)
  })
})

describe('the prefilter passes clean cells without running the detectors', () => {
  const clean = ['Running', 'payments-7d9f8b6c5d-h4x7q', '2026-12-01T12:00:00.000Z', '10.0.1.23', '+44 20 7946 0123', '123.45', 'Ada Lovelace', 'shipped', 'ip-10-0-1-23.eu-west-1.compute.internal', '250m', 'public.ecr.aws/demo/checkout:1.14.2']
  for (const text of clean) {
    it(JSON.stringify(text), () => {
      assert.equal(mayHoldCredential(text), false, 'no credential pattern can match here')
      assert.equal(mayHoldSensitiveValue(text), false, 'no value pattern can match here')
    })
  }
  it('an unchanged structured result is returned as it came, not copied', () => {
    const structured = { items: [{ name: 'payments', phase: 'Running' }], count: 1 }
    const out = redactToolOutput({ text: 'payments Running', structured }, ALL_OUTPUT_DETECTORS)
    assert.equal(out.structured, structured, 'nothing changed, so nothing is copied')
    assert.deepEqual(out.report, { detectors: [], redactedStrings: 0 })
  })
})

describe('the run of 40 key characters (hasSecretRun) is found exactly', () => {
  // Letters that spell no secret word or key prefix in any case, so only the run can open the gate.
  const letters = 'bcdfghjmnopquvwxyz/+BCDFGHJMNOPQUVWXYZ'
  const separators = [' ', '=', 'é', '-', '\n', '.']
  it('agrees with /[A-Za-z0-9/+]{40}/ on runs of 30–50 at every offset, alone and together', () => {
    const pick = seededRandom(99)
    const run = (n: number) => Array.from({ length: n }, () => letters[Math.floor(pick() * letters.length)]).join('')
    const sep = () => separators[Math.floor(pick() * separators.length)] ?? ' '
    let cases = 0
    for (let length = 30; length <= 50; length++) {
      for (let offset = 0; offset <= 45; offset++) {
        const text = `${sep().repeat(offset)}${run(length)}${sep()}${run(Math.floor(pick() * 45))}${sep()}${run(Math.floor(pick() * 41))}`
        assert.equal(mayHoldSensitiveValue(text), /[A-Za-z0-9/+]{40}/.test(text), `run detection wrong on ${JSON.stringify(text)}`)
        cases++
      }
    }
    assert.ok(cases > 900, 'every length and offset was tried')
  })
})
