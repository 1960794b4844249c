import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { createResultMasker } from '../../../src/guard/masking/create-result-masker.js'
import type { MaskRule, ResultColumn } from '../../../src/guard/masking/create-result-masker.js'
import { passesLuhn, redactSensitiveText } from '../../../src/guard/masking/detect-sensitive-values.js'
import type { DetectorSettings } from '../../../src/guard/masking/detect-sensitive-values.js'
import { compileColumnGlob, matchColumnGlob } from '../../../src/guard/masking/match-column-glob.js'

// Each masking rule and detector at its edges: a value that slips past a detector, or a column a
// glob should cover but does not, reaches the agent in clear.

const none: DetectorSettings = { awsKeys: false, emails: false, cardNumbers: false }
const keys: DetectorSettings = { ...none, awsKeys: true }
const emails: DetectorSettings = { ...none, emails: true }
const cards: DetectorSettings = { ...none, cardNumbers: true }
const all: DetectorSettings = { awsKeys: true, emails: true, cardNumbers: true }

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}`

describe('access key ids', () => {
  const prefixes = ['AKIA', 'ASIA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'ABIA', 'ACCA']
  for (const prefix of prefixes) {
    it(`redacts an id starting ${prefix}`, () => {
      const result = redactSensitiveText(`id=${prefix}Y34FZKBOKMUTVV7A.`, keys)
      assert.deepEqual(result, { text: 'id=[redacted:aws-access-key-id].', fired: ['awsKeys'] })
    })
  }
  const kept: [string, string][] = [
    ['unknown prefix', 'AXYZY34FZKBOKMUTVV7A'],
    ['15 characters after the prefix', 'AKIAY34FZKBOKMUTVV7'],
    ['17 characters after the prefix', 'AKIAY34FZKBOKMUTVV7AB'],
    ['glued to a word before', 'XAKIAY34FZKBOKMUTVV7A'],
    ['lower case', 'akiay34fzkbokmutvv7a'],
    ['a lower-case letter inside', 'AKIAY34FZKBOKMUTvV7A'],
  ]
  for (const [name, text] of kept) {
    it(`keeps ${name}`, () => assert.deepEqual(redactSensitiveText(text, keys), { text, fired: [] }))
  }
})

describe('secret access keys', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
  const hex40 = '0123456789abcdef0123456789abcdef01234567'
  const cases: [name: string, input: string, output: string][] = [
    ['named, hex shape too', `aws_secret_access_key=${hex40}`, 'aws_secret_access_key=[redacted:aws-secret-key]'],
    ['named with a colon and quotes', `"secret_key": "${hex40}"`, '"secret_key": "[redacted:aws-secret-key]"'],
    ['named without underscores', `SecretAccessKey = ${hex40}`, 'SecretAccessKey = [redacted:aws-secret-key]'],
    ['named, upper case', `AWS_SECRET_KEY:${hex40}`, 'AWS_SECRET_KEY:[redacted:aws-secret-key]'],
    ['named, 41 characters are not a key', `secret_key=${hex40}8`, `secret_key=${hex40}8`],
    ['named, 39 characters are not a key', `secret_key=${hex40.slice(1)}`, `secret_key=${hex40.slice(1)}`],
    ['bare, mixed classes', `x ${secret} y`, 'x [redacted:aws-secret-key] y'],
    ['bare, lower, upper and digits', 'k: abcdefghijABCDEFGHIJ0123456789abcdefghij', 'k: [redacted:aws-secret-key]'],
    ['bare, lower, upper and slash', 'abcdefghijABCDEFGHIJ/bcdefghijabcdefghij', '[redacted:aws-secret-key]'],
    ['bare, digits, upper and plus', '0123456789+0123456789ABCDEFGHIJ012345678', '[redacted:aws-secret-key]'],
    ['bare, digits and slash or plus only', '0123456789/0123456789+0123456789/0123456', '0123456789/0123456789+0123456789/0123456'],
    ['bare, two classes only', 'abcdefghijabcdefghij0123456789abcdefghij', 'abcdefghijabcdefghij0123456789abcdefghij'],
    ['bare, hex digest', hex40, hex40],
    ['bare, mixed-case hex digest (three classes, still hex)', '0123456789abcdefABCDEF0123456789abcdefAB', '0123456789abcdefABCDEF0123456789abcdefAB'],
    ['bare, letters of both cases only', 'abcdefghijABCDEFGHIJabcdefghijABCDEFGHIJ', 'abcdefghijABCDEFGHIJabcdefghijABCDEFGHIJ'],
    ['bare, upper-case hex digest', hex40.toUpperCase(), hex40.toUpperCase()],
    ['bare, 41 characters', `${secret}Q`, `${secret}Q`],
    ['bare, 39 characters', secret.slice(1), secret.slice(1)],
    ['bare, glued to = before', `=${secret}`, `=${secret}`],
    ['bare, glued to = after', `${secret}=`, `${secret}=`],
  ]
  for (const [name, input, output] of cases) {
    it(name, () => {
      const result = redactSensitiveText(input, keys)
      assert.equal(result.text, output)
      assert.deepEqual(result.fired, input === output ? [] : ['awsKeys'])
    })
  }
})

describe('email addresses', () => {
  const cases: [string, string][] = [
    ['ada@example.com', '[redacted:email]'],
    ['ADA.L+tag_1%x-y@sub-1.example.co', '[redacted:email]'],
    ['(ada@example.io)', '([redacted:email])'],
    ['x ada@b.c y', 'x ada@b.c y'],
    ['ada@example.c0m', 'ada@example.c0m'],
    ['@example.com', '@example.com'],
    ['ada@.com', 'ada@.com'],
    ['ada@example', 'ada@example'],
    ['a@b.cd', '[redacted:email]'],
  ]
  for (const [input, output] of cases) {
    it(`${input} → ${output}`, () => {
      const result = redactSensitiveText(input, emails)
      assert.equal(result.text, output)
      assert.deepEqual(result.fired, input === output ? [] : ['emails'])
    })
  }
})

describe('card numbers', () => {
  const cases: [name: string, input: string, output: string][] = [
    ['13 digits', 'n 4222222222008 n', 'n [redacted:card] n'],
    ['19 digits', 'n 6011000000000000001 n', 'n [redacted:card] n'],
    ['12 digits (Luhn-valid) are not a card', 'n 411100000008 n', 'n 411100000008 n'],
    ['20 digits (Luhn-valid) are not a card', 'n 41110000000000000008 n', 'n 41110000000000000008 n'],
    ['16 digits in fours', '5105 0000 0000 0003', '[redacted:card]'],
    ['mixed separators', '5105-0000 0000-0003', '[redacted:card]'],
    ['two spaces are not one number', '5105  0000  0000  0003', '5105  0000  0000  0003'],
    ['a digit before is part of it', '15105000000000003', '15105000000000003'],
    ['Luhn failure', '5105000000000004', '5105000000000004'],
  ]
  for (const [name, input, output] of cases) {
    it(name, () => {
      const result = redactSensitiveText(input, cards)
      assert.equal(result.text, output)
      assert.deepEqual(result.fired, input === output ? [] : ['cardNumbers'])
    })
  }
  it('Luhn refuses characters just outside the digits', () => {
    assert.equal(passesLuhn('0/'), false)
    assert.equal(passesLuhn('0:'), false)
    // Would sum to 0 if "/" counted as -1.
    assert.equal(passesLuhn('/2'), false)
    assert.equal(passesLuhn('00'), true)
    assert.equal(passesLuhn('18'), true)
    assert.equal(passesLuhn('59'), true)
    assert.equal(passesLuhn('91'), true)
    assert.equal(passesLuhn('19'), false)
  })
})

describe('each detector works alone and only for its own kind', () => {
  const text = 'ada@example.com AKIAIOSFODNN7EXAMPLE 4111111111111111'
  const cases: [DetectorSettings, string, string[]][] = [
    [keys, 'ada@example.com [redacted:aws-access-key-id] 4111111111111111', ['awsKeys']],
    [emails, '[redacted:email] AKIAIOSFODNN7EXAMPLE 4111111111111111', ['emails']],
    [cards, 'ada@example.com AKIAIOSFODNN7EXAMPLE [redacted:card]', ['cardNumbers']],
    [all, '[redacted:email] [redacted:aws-access-key-id] [redacted:card]', ['awsKeys', 'emails', 'cardNumbers']],
  ]
  for (const [settings, output, fired] of cases) {
    it(`${fired.join('+')}`, () => assert.deepEqual(redactSensitiveText(text, settings), { text: output, fired }))
    it(`${fired.join('+')} through the result masker`, () => {
      const out = createResultMasker({ maskColumns: {}, detectors: settings })({ columns: [{ name: 'note', type: 'text' }], rows: [[text]] })
      assert.deepEqual(out.rows, [[output]])
      assert.deepEqual(out.report.detectors, [...fired].sort())
      assert.equal(out.report.redactedCells, 1)
    })
  }
})

describe('column globs', () => {
  const cases: [pattern: string, column: { name: string; table?: string }, covered: boolean][] = [
    ['ssn', { name: 'ssn', table: 'users' }, true],
    ['ssn', { name: 'SSN' }, true],
    ['ssn', { name: 'ssn2' }, false],
    ['ssn', { name: 'xssn' }, false],
    ['ss?', { name: 'ssn' }, true],
    ['ss?', { name: 'ss' }, false],
    ['ss?', { name: 'ssnn' }, false],
    ['*ssn', { name: 'user_ssn' }, true],
    ['*ssn', { name: 'user_ssn_hash' }, false],
    ['a+b', { name: 'a+b' }, true],
    ['a+b', { name: 'aab' }, false],
    ['a$b', { name: 'a$b' }, true],
    ['(a)', { name: '(a)' }, true],
    ['(a)', { name: 'a' }, false],
    ['[ab]', { name: '[ab]' }, true],
    ['[ab]', { name: 'a' }, false],
    ['a|b', { name: 'a' }, false],
    ['a{2}', { name: 'aa' }, false],
    ['a\\d', { name: 'a1' }, false],
    ['a^b', { name: 'a^b' }, true],
    ['users.ssn', { name: 'ssn', table: 'users' }, true],
    ['users.ssn', { name: 'ssn', table: 'USERS' }, true],
    ['users.ssn', { name: 'ssn', table: 'audit' }, false],
    ['users.ssn', { name: 'ssn', table: 'users2' }, false],
    ['users.ssn', { name: 'ssn', table: 'xusers' }, false],
    ['users.ssn', { name: 'ssn' }, true],
    ['users.ssn', { name: 'ssn', table: '' }, true],
    ['users.ssn', { name: 'email', table: 'users' }, false],
    ['users.ssn', { name: 'users.ssn' }, false],
    ['u*.s.n', { name: 's.n', table: 'users' }, true],
    ['u*.s.n', { name: 'sxn', table: 'users' }, false],
    ['*.*', { name: 'anything', table: 'anywhere' }, true],
  ]
  for (const [pattern, column, covered] of cases) {
    it(`${pattern} ${covered ? 'covers' : 'does not cover'} ${JSON.stringify(column)}`, () => {
      assert.equal(matchColumnGlob(compileColumnGlob(pattern), column), covered)
    })
  }
  it('compiles a table part only when there is a dot', () => {
    assert.equal(compileColumnGlob('ssn').table, undefined)
    assert.equal(compileColumnGlob('users.ssn').table?.test('users'), true)
    assert.equal(compileColumnGlob('users.ssn').column.test('ssn'), true)
    assert.equal(compileColumnGlob('users.ssn').pattern, 'users.ssn')
  })
})

describe('createResultMasker rules', () => {
  const columns: ResultColumn[] = [
    { name: 'id', type: 'int4' },
    { name: 'ssn', table: 'users', type: 'text' },
    { name: 'note', table: '', type: 'text' },
  ]
  const row = [12345, '123-45-6789', 'hello world']
  const mask = (maskColumns: Record<string, MaskRule>) => createResultMasker({ maskColumns, detectors: none })({ columns, rows: [row] })

  // The strongest rule wins whatever order the globs come in: redact > hash > last4.
  const strongest: [Record<string, MaskRule>, unknown[]][] = [
    [{ '*': 'last4', ssn: 'hash' }, ['••••2345', sha('123-45-6789'), '••••orld']],
    [{ ssn: 'hash', '*': 'last4' }, ['••••2345', sha('123-45-6789'), '••••orld']],
    [{ ssn: 'last4', '*': 'hash' }, [sha('12345'), sha('123-45-6789'), sha('hello world')]],
    [{ '*': 'hash', 'users.ssn': 'redact' }, [sha('12345'), '[redacted]', sha('hello world')]],
    [{ 'users.ssn': 'redact', '*': 'hash' }, [sha('12345'), '[redacted]', sha('hello world')]],
    // A table glob also covers columns without a reported table: masking too much is the safe failure.
    [{ 'users.*': 'redact', '*': 'hash' }, ['[redacted]', '[redacted]', '[redacted]']],
    [{ 'audit.*': 'redact', '*': 'last4' }, ['[redacted]', '••••6789', '[redacted]']],
    [{ id: 'redact', '*': 'last4' }, ['[redacted]', '••••6789', '••••orld']],
    [{ '*': 'last4', id: 'redact' }, ['[redacted]', '••••6789', '••••orld']],
  ]
  for (const [maskColumns, expected] of strongest) {
    it(`${JSON.stringify(maskColumns)} → strongest rule per column`, () => assert.deepEqual(mask(maskColumns).rows[0], expected))
  }
  it('reports masked columns by table.name, or name alone without a table', () => {
    assert.deepEqual(mask({ '*': 'last4', ssn: 'hash' }).report.maskedColumns, { id: 'last4', 'users.ssn': 'hash', note: 'last4' })
  })
  it('masks non-string cells by their JSON text', () => {
    const out = createResultMasker({ maskColumns: { '*': 'hash' }, detectors: none })({
      columns: [{ name: 'a', type: 'jsonb' }, { name: 'b', type: 'int4' }, { name: 'c', type: 'bool' }],
      rows: [[{ k: 'v' }, 7, true]],
    })
    assert.deepEqual(out.rows, [[sha('{"k":"v"}'), sha('7'), sha('true')]])
    const last4 = createResultMasker({ maskColumns: { '*': 'last4' }, detectors: none })({ columns: [{ name: 'a', type: 'jsonb' }], rows: [[{ k: 'value' }]] })
    assert.deepEqual(last4.rows, [['••••ue"}']])
  })
  it('keeps null and undefined cells as they are under every rule', () => {
    for (const rule of ['redact', 'hash', 'last4'] as const) {
      const out = createResultMasker({ maskColumns: { '*': rule }, detectors: none })({ columns: [{ name: 'a', type: 'text' }], rows: [[null], [undefined]] })
      assert.deepEqual(out.rows, [[null], [undefined]], rule)
    }
  })
  it('last4 shows nothing of a value of four characters or fewer', () => {
    const out = createResultMasker({ maskColumns: { '*': 'last4' }, detectors: none })({ columns: [{ name: 'a', type: 'text' }], rows: [['abcd'], ['abcde'], [''], ['a']] })
    assert.deepEqual(out.rows, [['••••'], ['••••bcde'], ['••••'], ['••••']])
  })
  it('masked columns skip the detectors; the rest are scrubbed, nested arrays too', () => {
    const out = createResultMasker({ maskColumns: { secret: 'last4' }, detectors: all })({
      columns: [{ name: 'secret', type: 'text' }, { name: 'tags', type: '_text' }, { name: 'n', type: 'int8' }],
      rows: [
        ['ada@example.com', [['bob@example.org'], 'plain', 5], 4111111111111111],
        ['x', [[], ['AKIAIOSFODNN7EXAMPLE']], null],
      ],
    })
    assert.deepEqual(out.rows, [
      ['••••.com', [['[redacted:email]'], 'plain', 5], 4111111111111111],
      ['••••', [[], ['[redacted:aws-access-key-id]']], null],
    ])
    // Detectors fired in the order emails, then awsKeys; the report lists them sorted.
    assert.deepEqual(out.report, { maskedColumns: { secret: 'last4' }, detectors: ['awsKeys', 'emails'], redactedCells: 2 })
  })
  it('counts every redacted cell, including array elements', () => {
    const out = createResultMasker({ maskColumns: {}, detectors: emails })({
      columns: [{ name: 'a', type: 'text' }, { name: 'b', type: '_text' }],
      rows: [['a@b.io', ['c@d.io', 'e@f.io', 'none']], ['none', []]],
    })
    assert.equal(out.report.redactedCells, 3)
    assert.deepEqual(out.report.detectors, ['emails'])
  })
  it('passes cells through untouched when no detector is on', () => {
    const cell = ['ada@example.com']
    const out = createResultMasker({ maskColumns: {}, detectors: none })({ columns: [{ name: 'a', type: '_text' }], rows: [[cell]] })
    assert.equal(out.rows[0]?.[0], cell)
    assert.deepEqual(out.report, { maskedColumns: {}, detectors: [], redactedCells: 0 })
  })
  it('returns the columns it was given', () => {
    const out = mask({})
    assert.equal(out.columns, columns)
  })
})
