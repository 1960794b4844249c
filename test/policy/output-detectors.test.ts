import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { grantSchema } from '../../src/policy/policy-schema.js'
import { ALL_OUTPUT_DETECTORS, resolveOutputDetectors, type OutputDetectorSettings } from '../../src/policy/output-detectors.js'

const base = { id: 'g', groups: ['ops'], tools: ['ssm_run'] }

describe('a grant’s output detectors', () => {
  const cases: [string, unknown, Partial<Record<keyof OutputDetectorSettings, boolean>>, Partial<OutputDetectorSettings>][] = [
    ['absent: all on', undefined, {}, {}],
    ['an empty block: all on', {}, {}, {}],
    ['one turned off at the grant', { emails: false }, {}, { emails: false }],
    ['several turned off at the grant', { jwts: false, namedSecrets: false }, {}, { jwts: false, namedSecrets: false }],
    ['turned off for the tool only', undefined, { cardNumbers: false }, { cardNumbers: false }],
    ['the tool cannot turn on what the grant turned off', { awsKeys: false }, { awsKeys: true }, { awsKeys: false }],
    ['both turn different ones off', { privateKeys: false }, { emails: false }, { privateKeys: false, emails: false }],
  ]
  for (const [name, block, narrower, off] of cases) {
    it(name, () => {
      const grant = grantSchema.parse({ ...base, ...(block === undefined ? {} : { detectors: block }) })
      assert.deepEqual(resolveOutputDetectors(grant.detectors, narrower), { ...ALL_OUTPUT_DETECTORS, ...off })
    })
  }

  it('refuses an unknown detector name or a non-boolean (a typo must not switch a detector off)', () => {
    for (const detectors of [{ jwt: false }, { emails: 'no' }, { emails: 0 }, ['emails'], { enabled: ['emails'] }]) {
      assert.equal(grantSchema.safeParse({ ...base, detectors }).success, false, JSON.stringify(detectors))
    }
  })
})
