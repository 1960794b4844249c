import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { createResultMasker } from '../../../src/guard/masking/create-result-masker.js'
import type { MaskRule } from '../../../src/guard/masking/create-result-masker.js'
import { passesLuhn, redactSensitiveText } from '../../../src/guard/masking/detect-sensitive-values.js'

const allDetectors = { awsKeys: true, emails: true, cardNumbers: true }
const noDetectors = { awsKeys: false, emails: false, cardNumbers: false }

describe('passesLuhn', () => {
  const cases: [string, boolean][] = [
    ['4111111111111111', true],
    ['5555555555554444', true],
    ['378282246310005', true],
    ['6011111111111117', true],
    ['4111111111111112', false],
    ['1234567812345678', false],
    ['0000000000000001', false],
    ['411111111111111a', false],
  ]
  for (const [digits, expected] of cases) it(`${digits} → ${expected}`, () => assert.equal(passesLuhn(digits), expected))
})

describe('redactSensitiveText', () => {
  const cases: [string, string, string[]][] = [
    ['key AKIAIOSFODNN7EXAMPLE here', 'key [redacted:aws-access-key-id] here', ['awsKeys']],
    ['ASIAY34FZKBOKMUTVV7A', '[redacted:aws-access-key-id]', ['awsKeys']],
    ['AKIA123', 'AKIA123', []],
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = [redacted:aws-secret-key]', ['awsKeys']],
    ['token wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end', 'token [redacted:aws-secret-key] end', ['awsKeys']],
    ['commit 8f14e45fceea167a5a36dedd4bea2543e8f2a1b0', 'commit 8f14e45fceea167a5a36dedd4bea2543e8f2a1b0', []],
    ['mail ada@example.com now', 'mail [redacted:email] now', ['emails']],
    ['a.b+c@mail.example.co.uk', '[redacted:email]', ['emails']],
    ['not an email: ada@localhost', 'not an email: ada@localhost', []],
    ['card 4111 1111 1111 1111 ok', 'card [redacted:card] ok', ['cardNumbers']],
    ['card 4111-1111-1111-1111', 'card [redacted:card]', ['cardNumbers']],
    ['amex 378282246310005', 'amex [redacted:card]', ['cardNumbers']],
    ['order 4111111111111112', 'order 4111111111111112', []],
    ['phone 555-0100', 'phone 555-0100', []],
    ['id 12345678901234567890123', 'id 12345678901234567890123', []],
  ]
  for (const [input, expected, fired] of cases) {
    it(JSON.stringify(input), () => {
      const result = redactSensitiveText(input, allDetectors)
      assert.equal(result.text, expected)
      assert.deepEqual(result.fired, fired)
    })
  }
  it('leaves text alone when the detector is off', () => {
    assert.equal(redactSensitiveText('ada@example.com 4111111111111111 AKIAIOSFODNN7EXAMPLE', noDetectors).text, 'ada@example.com 4111111111111111 AKIAIOSFODNN7EXAMPLE')
    assert.equal(redactSensitiveText('ada@example.com', { ...noDetectors, cardNumbers: true }).text, 'ada@example.com')
  })
})

describe('createResultMasker column globs', () => {
  const columns = [
    { name: 'id', table: 'users', type: 'int4' },
    { name: 'email', table: 'users', type: 'text' },
    { name: 'ssn', table: 'users', type: 'text' },
    { name: 'ssn', table: 'audit', type: 'text' },
    { name: 'card', type: 'text' },
  ]
  const row = [1, 'ada@example.com', '123-45-6789', '987-65-4321', '4111111111111111']
  const mask = (maskColumns: Record<string, MaskRule>) =>
    createResultMasker({ maskColumns, detectors: noDetectors })({ columns, rows: [row] })

  const cases: [Record<string, MaskRule>, unknown[]][] = [
    [{}, row],
    [{ '*.email': 'redact' }, [1, '[redacted]', '123-45-6789', '987-65-4321', '4111111111111111']],
    [{ email: 'redact' }, [1, '[redacted]', '123-45-6789', '987-65-4321', '4111111111111111']],
    [{ 'users.ssn': 'redact' }, [1, 'ada@example.com', '[redacted]', '987-65-4321', '4111111111111111']],
    [{ 'USERS.SSN': 'last4' }, [1, 'ada@example.com', '••••6789', '987-65-4321', '4111111111111111']],
    [{ 's?n': 'last4' }, [1, 'ada@example.com', '••••6789', '••••4321', '4111111111111111']],
    [{ 'accounts.card': 'last4' }, [1, 'ada@example.com', '123-45-6789', '987-65-4321', '••••1111']],
    [{ '*': 'redact', id: 'last4' }, ['[redacted]', '[redacted]', '[redacted]', '[redacted]', '[redacted]']],
    [{ 'u*.e*': 'hash' }, [1, `sha256:${createHash('sha256').update('ada@example.com').digest('hex').slice(0, 12)}`, '123-45-6789', '987-65-4321', '4111111111111111']],
  ]
  for (const [maskColumns, expected] of cases) {
    it(JSON.stringify(maskColumns), () => assert.deepEqual(mask(maskColumns).rows[0], expected))
  }
  it('reports masked columns and keeps nulls null', () => {
    const out = createResultMasker({ maskColumns: { '*.ssn': 'hash' }, detectors: noDetectors })({ columns, rows: [[1, null, null, 'x', null]] })
    assert.deepEqual(out.rows[0], [1, null, null, 'sha256:2d711642b726', null])
    assert.deepEqual(out.report.maskedColumns, { 'users.ssn': 'hash', 'audit.ssn': 'hash' })
  })
  it('hides short values completely under last4', () => {
    const out = createResultMasker({ maskColumns: { pin: 'last4' }, detectors: noDetectors })({ columns: [{ name: 'pin', type: 'text' }], rows: [['1234'], [98765]] })
    assert.deepEqual(out.rows, [['••••'], ['••••8765']])
  })
})

describe('createResultMasker detectors', () => {
  it('scrubs string cells, arrays included, and reports what fired', () => {
    const masker = createResultMasker({ maskColumns: { 'users.email': 'redact' }, detectors: allDetectors })
    const out = masker({
      columns: [{ name: 'email', table: 'users', type: 'text' }, { name: 'note', type: 'text' }, { name: 'tags', type: '_text' }, { name: 'n', type: 'int4' }],
      rows: [
        ['ada@example.com', 'call bob@example.org', ['AKIAIOSFODNN7EXAMPLE', 'ok'], 4111111111111111],
        [null, 'nothing here', [], 7],
      ],
    })
    assert.deepEqual(out.rows, [
      ['[redacted]', 'call [redacted:email]', ['[redacted:aws-access-key-id]', 'ok'], 4111111111111111],
      [null, 'nothing here', [], 7],
    ])
    assert.deepEqual(out.report.detectors, ['awsKeys', 'emails'])
    assert.equal(out.report.redactedCells, 2)
  })
  it('reports nothing when nothing matched', () => {
    const out = createResultMasker({ maskColumns: {}, detectors: allDetectors })({ columns: [{ name: 'a', type: 'text' }], rows: [['plain']] })
    assert.deepEqual(out.report, { maskedColumns: {}, detectors: [], redactedCells: 0 })
  })
})
