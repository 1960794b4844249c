import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { redactToolOutput } from '../../../src/guard/masking/redact-tool-output.js'
import { ALL_OUTPUT_DETECTORS } from '../../../src/policy/output-detectors.js'

// A JWT whose signature is exactly the shape of an AWS secret key (40 base64 characters).
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.wJalrXUtnFEMI0K7MDENG0bPxRfiCYEXAMPLEKEY'
const OFF = { awsKeys: false, emails: false, cardNumbers: false, jwts: false, privateKeys: false, namedSecrets: false }

describe('redactToolOutput', () => {
  it('redacts the text and every string inside the structured result, keeping keys and shape', () => {
    const structured = {
      stdout: 'root 42 /usr/bin/app --db-password=hunter2',
      rows: [[1, JWT, ['ada@example.com', null]], [2, 'plain', true]],
      meta: { note: 'card 4111 1111 1111 1111', count: 3 },
    }
    const out = redactToolOutput({ text: `uptime ok\nAKIAIOSFODNN7EXAMPLE`, structured }, ALL_OUTPUT_DETECTORS)
    assert.equal(out.text, 'uptime ok\n[redacted:aws-access-key-id]')
    assert.deepEqual(out.structured, {
      stdout: 'root 42 /usr/bin/app --db-password=[redacted:secret]',
      rows: [[1, '[redacted:jwt]', ['[redacted:email]', null]], [2, 'plain', true]],
      meta: { note: 'card [redacted:card]', count: 3 },
    })
    assert.deepEqual(out.report, { detectors: ['awsKeys', 'cardNumbers', 'emails', 'jwts', 'namedSecrets'], redactedStrings: 5 })
    assert.equal(structured.stdout, 'root 42 /usr/bin/app --db-password=hunter2', 'the input is not modified')
  })

  it('takes a JWT whole, before the key shape could take part of it', () => {
    assert.equal(redactToolOutput({ text: JWT }, ALL_OUTPUT_DETECTORS).text, '[redacted:jwt]')
  })

  it('takes a URL password before the email shape could take it with the host', () => {
    assert.equal(redactToolOutput({ text: 'postgres://app:pw@db.example.com/x' }, ALL_OUTPUT_DETECTORS).text, 'postgres://app:[redacted:secret]@db.example.com/x')
  })

  it('runs only the detectors that are on', () => {
    const text = `ada@example.com ${JWT}`
    assert.deepEqual(redactToolOutput({ text }, OFF), { text, structured: undefined, report: { detectors: [], redactedStrings: 0 } })
    assert.equal(redactToolOutput({ text }, { ...OFF, emails: true }).text, `[redacted:email] ${JWT}`)
    assert.equal(redactToolOutput({ text }, { ...ALL_OUTPUT_DETECTORS, jwts: false, awsKeys: false }).text, `[redacted:email] ${JWT}`)
  })

  it('reports nothing for clean output', () => {
    const out = redactToolOutput({ text: 'NAME READY\npayments 1/1', structured: { rows: [['payments', '1/1']] } }, ALL_OUTPUT_DETECTORS)
    assert.deepEqual(out.report, { detectors: [], redactedStrings: 0 })
    assert.deepEqual(out.structured, { rows: [['payments', '1/1']] })
  })
})
