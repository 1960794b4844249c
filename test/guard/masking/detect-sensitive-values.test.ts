import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { redactSensitiveText } from '../../../src/guard/masking/detect-sensitive-values.js'

const all = { awsKeys: true, emails: true, cardNumbers: true }

describe('value detectors stay linear on hostile cells', () => {
  // A quadratic scan of these inputs takes minutes to hours; linear takes milliseconds. The generous
  // timeout only turns a hang into a failure.
  it('scans megabyte runs of address characters without stalling', { timeout: 10_000 }, () => {
    for (const cell of ['a'.repeat(1_000_000), 'a.'.repeat(500_000), `x@${'a.'.repeat(300_000)}!`]) {
      assert.equal(redactSensitiveText(cell, all).text, cell)
    }
  })

  it('still finds addresses at word boundaries', () => {
    assert.equal(redactSensitiveText('mail ada@example.com, a.b+c@d.io', all).text, 'mail [redacted:email], [redacted:email]')
  })
})
