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

  // Every pattern behind the prefilter still fires, in the text and inside the structured result:
  // mixed case for the case-insensitive ones, at the start and end of the string, next to non-ASCII.
  const denied: [string, string, string, string][] = [
    ['JWT at the end', `id ${JWT}`, 'id [redacted:jwt]', 'jwts'],
    ['private key cut off', 'é-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE', 'é[redacted:private-key]', 'privateKeys'],
    ['assigned secret, mixed case', 'PassWord=hunter2', 'PassWord=[redacted:secret]', 'namedSecrets'],
    ['assigned api key in JSON', '{"Api-Key":"k-123"}', '{"Api-Key":"[redacted:secret]"}', 'namedSecrets'],
    ['secret option, upper case', 'app --DB-TOKEN abc123', 'app --DB-TOKEN [redacted:secret]', 'namedSecrets'],
    ['URL password, upper-case scheme', 'HTTPS://u:p4ss@h.example', 'HTTPS://u:[redacted:secret]@h.example', 'namedSecrets'],
    ['authorization header, upper case', 'PROXY-AUTHORIZATION: BASIC YWRhOnB3', 'PROXY-AUTHORIZATION: BASIC [redacted:secret]', 'namedSecrets'],
    ['access key id at the start', 'ASIAY34FZKBOKMUTVV7A,', '[redacted:aws-access-key-id],', 'awsKeys'],
    ['named AWS secret across a newline', 'Secret_Access_Key:\nAb1/Cd2+Ef3=Ab1/Cd2+Ef3=Ab1/Cd2+Ef3=Ab1/', 'Secret_Access_Key:\n[redacted:aws-secret-key]', 'awsKeys'],
    ['bare AWS secret shape', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '[redacted:aws-secret-key]', 'awsKeys'],
    ['email, upper case', 'ADA@EXAMPLE.COM', '[redacted:email]', 'emails'],
    ['13-digit card, the shortest match there is', '4222222222222', '[redacted:card]', 'cardNumbers'],
  ]
  for (const [name, input, expected, detector] of denied) {
    it(`still redacts ${name}`, () => {
      const out = redactToolOutput({ text: input, structured: { rows: [['ok', { cell: input }]], other: 'ok' } }, ALL_OUTPUT_DETECTORS)
      assert.equal(out.text, expected)
      assert.deepEqual(out.structured, { rows: [['ok', { cell: expected }]], other: 'ok' })
      assert.deepEqual(out.report, { detectors: [detector], redactedStrings: 2 })
    })
  }

  it('copies only the containers on the way to a changed string', () => {
    const clean = { name: 'payments' }
    const structured = { a: clean, b: ['x', { mail: 'ada@example.com' }] }
    const out = redactToolOutput({ text: '', structured }, ALL_OUTPUT_DETECTORS)
    assert.deepEqual(out.structured, { a: { name: 'payments' }, b: ['x', { mail: '[redacted:email]' }] })
    assert.notEqual(out.structured, structured, 'the changed result is a new object')
    assert.deepEqual(structured.b, ['x', { mail: 'ada@example.com' }], 'the input is not modified')
  })
})
