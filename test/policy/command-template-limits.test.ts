import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../src/errors.js'
import { checkTemplateArgument, isSafeAbsolutePath, parseCommandTemplate, parseTemplateWord } from '../../src/policy/command-template.js'

// Every limit of the template language at its edge, and every refusal with the reason it gives:
// a template that loads wider than written, or an argument that fits a placeholder it should not,
// lets an agent run more than the grant says.

function refusal(word: string): string {
  try {
    parseTemplateWord(word)
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError for ${word}, got ${String(error)}`)
    assert.equal(error.code, 'POLICY_INVALID')
    return error.message
  }
  assert.fail(`${JSON.stringify(word)} was accepted`)
}

describe('parseTemplateWord refusals name the problem', () => {
  const cases: [word: string, message: RegExp][] = [
    // Braces only as a whole word.
    ['pre{word}', /^"pre\{word\}": a placeholder must be a whole word such as \{word\}$/],
    ['{word}post', /^"\{word\}post": a placeholder must be a whole word such as \{word\}$/],
    ['a{b', /^"a\{b": a placeholder must be a whole word$/],
    ['a}b', /^"a\}b": a placeholder must be a whole word$/],
    ['{}', /^"\{\}": a placeholder must be a whole word such as \{word\}$/],
    ['{{}}', /^"\{\{\}\}": nested braces$/],
    ['{a}b}', /^"\{a\}b\}": nested braces$/],
    // Literals: printable ASCII, no quotes or backslashes.
    ['\u00e9cole', /^a literal word must be printable ASCII without spaces$/],
    ['ab\u00e9', /^a literal word must be printable ASCII without spaces$/],
    ['a b', /^a literal word must be printable ASCII without spaces$/],
    ['~\u007f', /^a literal word must be printable ASCII without spaces$/],
    ["it's", /^"it's": quotes and backslashes are not allowed in literal words$/],
    ['say"hi', /^"say"hi": quotes and backslashes are not allowed in literal words$/],
    ['C:\\dir', /^"C:\\dir": quotes and backslashes are not allowed in literal words$/],
    // Choices: non-empty literals, no quotes, no duplicates.
    ['{a|}', /^"\{a\|\}": each alternative must be a non-empty literal word$/],
    ['{|a}', /^"\{\|a\}": each alternative must be a non-empty literal word$/],
    ['{a|b c}', /each alternative must be a non-empty literal word$/],
    ['{a|\u00e9}', /each alternative must be a non-empty literal word$/],
    ['{\u00e9x|a}', /each alternative must be a non-empty literal word$/],
    ["{a|b'c}", /each alternative must be a non-empty literal word$/],
    ['{a|"b"}', /each alternative must be a non-empty literal word$/],
    ['{a|b\\c}', /each alternative must be a non-empty literal word$/],
    ['{x|y|x}', /^"\{x\|y\|x\}": duplicate alternative$/],
    // Typed placeholders.
    ['{itn:1-5}', /^"\{itn:1-5\}": unknown placeholder type "itn" \(expected word, int, path or a\|b\)$/],
    ['{:5}', /unknown placeholder type ""/],
    ['{path}', /^\{path\} needs a glob, e\.g\. \{path:\/var\/log\/\*\*\}$/],
    ['{Unit}', /^"\{Unit\}": unknown placeholder \(expected \{word\}, \{int\}, \{path:GLOB\}, \{a\|b\} or \{name\}\)$/],
    ['{1abc}', /unknown placeholder \(expected/],
    ['{ab$}', /unknown placeholder \(expected/],
    [`{a${'b'.repeat(32)}}`, /unknown placeholder \(expected/],
    // Integer bounds.
    ['{int:}', /^\{int:\}: expected bounds such as \{int:1-1000\}$/],
    ['{int:5}', /^\{int:5\}: expected bounds such as \{int:1-1000\}$/],
    ['{int:x1-5}', /expected bounds such as/],
    ['{int:1-5x}', /expected bounds such as/],
    ['{int:1-12345678901}', /expected bounds such as/],
    ['{int:6-5}', /^\{int:6-5\}: lower bound above upper bound$/],
    ['{int:0-1000000001}', /^\{int:0-1000000001\}: upper bound above 1000000000$/],
    // Path globs.
    ['{path:var/log}', /^\{path:var\/log\}: the glob must be an absolute path$/],
    [`{path:/${'a'.repeat(1024)}}`, /the glob must be an absolute path$/],
    ['{path:/var//log}', /^\{path:\/var\/\/log\}: empty, "\." or "\.\." segment in the glob$/],
    ['{path:/var/./log}', /empty, "\." or "\.\." segment in the glob$/],
    ['{path:/var/../etc}', /empty, "\." or "\.\." segment in the glob$/],
    ['{path:/var/log/}', /empty, "\." or "\.\." segment in the glob$/],
    ['{path:/var/l;g}', /^\{path:\/var\/l;g\}: unsupported character in the glob$/],
    ['{path:/;var/log}', /unsupported character in the glob$/],
    ['{path:/var/log;}', /unsupported character in the glob$/],
    ['{path:/var/lo**g}', /^\{path:\/var\/lo\*\*g\}: "\*\*" must be a whole segment$/],
    ['{path:/var/***}', /"\*\*" must be a whole segment$/],
  ]
  for (const [word, message] of cases) {
    it(`refuses ${JSON.stringify(word)}`, () => assert.match(refusal(word), message))
  }
})

describe('parseTemplateWord accepts the edges of what it allows', () => {
  const cases: [word: string, expected: unknown][] = [
    ['~', { kind: 'literal', value: '~' }],
    ['!', { kind: 'literal', value: '!' }],
    ['--since=-1h', { kind: 'literal', value: '--since=-1h' }],
    ['{a}', { kind: 'word', name: 'a' }],
    [`{a${'b'.repeat(31)}}`, { kind: 'word', name: `a${'b'.repeat(31)}` }],
    ['{unit_2-x}', { kind: 'word', name: 'unit_2-x' }],
    ['{only}', { kind: 'word', name: 'only' }],
    ['{a|~}', { kind: 'choice', options: ['a', '~'] }],
    ['{int:5-5}', { kind: 'int', min: 5, max: 5 }],
    ['{int:0-1000000000}', { kind: 'int', min: 0, max: 1_000_000_000 }],
    ['{int:0000000007-0000000009}', { kind: 'int', min: 7, max: 9 }],
    [`{path:/${'a'.repeat(1023)}}`, { kind: 'path', glob: `/${'a'.repeat(1023)}`, segments: ['a'.repeat(1023)] }],
    ['{path:/*}', { kind: 'path', glob: '/*', segments: ['*'] }],
    ['{path:/srv/**/current}', { kind: 'path', glob: '/srv/**/current', segments: ['srv', '**', 'current'] }],
    ['{path:/a.b/c+d/e@f:g=h,i-j_k}', { kind: 'path', glob: '/a.b/c+d/e@f:g=h,i-j_k', segments: ['a.b', 'c+d', 'e@f:g=h,i-j_k'] }],
  ]
  for (const [word, expected] of cases) {
    it(`accepts ${word.length > 40 ? `${word.slice(0, 40)}…` : word}`, () => assert.deepEqual(parseTemplateWord(word), expected))
  }
})

describe('parseCommandTemplate', () => {
  it('refuses an empty template', () => {
    assert.throws(() => parseCommandTemplate([]), (e: unknown) => e instanceof ConfigError && e.code === 'POLICY_INVALID' && e.message === 'a command template needs at least one word')
  })
  it('refuses every kind of placeholder as the program, naming word 0', () => {
    for (const first of ['{word}', '{unit}', '{int}', '{int:1-5}', '{path:/usr/bin/*}']) {
      assert.throws(
        () => parseCommandTemplate([first, 'x']),
        (e: unknown) => e instanceof ConfigError && e.code === 'POLICY_INVALID' && e.message === 'word 0: the command name must be a literal (or a choice of literals)',
        first,
      )
    }
  })
  it('keeps the source words and parses each one', () => {
    const words = ['journalctl', '-u', '{unit}', '-n', '{int:1-1000}']
    const template = parseCommandTemplate(words)
    assert.deepEqual(template.source, words)
    assert.notEqual(template.source, words, 'the template keeps its own copy of the words')
    assert.deepEqual(template.parts.map((p) => p.kind), ['literal', 'literal', 'word', 'literal', 'int'])
  })
  it('prefixes the failing word index and keeps the cause', () => {
    assert.throws(
      () => parseCommandTemplate(['ls', '{int:9-1}']),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, 'a ConfigError')
        assert.equal(e.code, 'POLICY_INVALID')
        assert.equal(e.message, 'word 1: {int:9-1}: lower bound above upper bound')
        assert.ok(e.cause instanceof ConfigError, 'the cause is the word refusal')
        return true
      },
    )
  })
})

describe('checkTemplateArgument reasons', () => {
  const p = parseTemplateWord
  const cases: [name: string, part: string, value: string, reason: string | undefined][] = [
    ['literal equal', 'status', 'status', undefined],
    ['literal differs', 'status', 'stop', 'expected "status"'],
    ['literal prefix', 'status', 'stat', 'expected "status"'],
    ['choice in', '{status|show}', 'status', undefined],
    ['choice out', '{status|show}', 'sho', 'expected one of status, show'],
    ['word at its limit', '{word}', 'a'.repeat(128), undefined],
    ['word one over', '{unit}', 'a'.repeat(129), '{unit}: 1–128 characters'],
    ['word empty', '{word}', '', '{word}: 1–128 characters'],
    ['word one character', '{word}', 'x', undefined],
    ['word leading dash', '{unit}', '-x', '{unit}: must not start with "-"'],
    ['word inner dash', '{unit}', 'x-y', undefined],
    ['word unsafe start', '{unit}', ';x', '{unit}: only letters, digits and . _ @ : + = , -'],
    ['word unsafe end', '{unit}', 'x;', '{unit}: only letters, digits and . _ @ : + = , -'],
    ['word every safe class', '{word}', 'aZ09._@:+=,-', undefined],
    ['int zero', '{int}', '0', undefined],
    ['int default max', '{int}', '100000', undefined],
    ['int over default max', '{int}', '100001', '{int}: expected 0–100000'],
    ['int double zero', '{int}', '00', '{int}: expected a non-negative integer'],
    ['int leading zero', '{int}', '07', '{int}: expected a non-negative integer'],
    ['int at min', '{int:3-9}', '3', undefined],
    ['int below min', '{int:3-9}', '2', '{int}: expected 3–9'],
    ['int at max', '{int:3-9}', '9', undefined],
    ['int above max', '{int:3-9}', '10', '{int}: expected 3–9'],
    ['int ten digits', '{int:0-1000000000}', '1000000000', undefined],
    ['int eleven digits', '{int:0-1000000000}', '10000000000', '{int}: expected a non-negative integer'],
    ['int plus sign', '{int}', '+5', '{int}: expected a non-negative integer'],
    ['int trailing text', '{int}', '5x', '{int}: expected a non-negative integer'],
    ['int leading text', '{int}', 'x5', '{int}: expected a non-negative integer'],
    ['int exponent', '{int}', '1e3', '{int}: expected a non-negative integer'],
    ['int empty', '{int}', '', '{int}: expected a non-negative integer'],
    ['path fits', '{path:/var/log/*}', '/var/log/syslog', undefined],
    ['path outside', '{path:/var/log/*}', '/var/syslog', '{path}: outside /var/log/*'],
    ['path not normalised', '{path:/var/log/*}', '/var/log/../x', '{path}: expected a normalised absolute path'],
  ]
  for (const [name, word, value, reason] of cases) {
    it(`${name}: ${reason ?? 'fits'}`, () => assert.equal(checkTemplateArgument(p(word), value), reason))
  }
})

describe('path globs match exactly what they say', () => {
  const cases: [glob: string, value: string, fits: boolean][] = [
    // `.` and `+` in a glob are themselves, not regex wildcards.
    ['/var/log/*.log', '/var/log/syslogXlog', false],
    ['/var/log/*.log', '/var/log/a.log', true],
    ['/etc/a.b', '/etc/aXb', false],
    ['/etc/a+b', '/etc/aab', false],
    ['/etc/a+b', '/etc/a+b', true],
    ['/etc/c++', '/etc/c++', true],
    ['/etc/c++', '/etc/ccc', false],
    // A literal segment matches whole, not as a prefix, suffix or substring.
    ['/etc/nginx/nginx.conf', '/etc/nginx/xnginx.conf', false],
    ['/etc/nginx/nginx.conf', '/etc/nginx/nginx.confx', false],
    ['/etc/nginx/nginx.conf', '/etc/xnginx/nginx.conf', false],
    ['/etc/nginx/nginx.conf', '/etc/nginx', false],
    ['/etc/nginx/nginx.conf', '/etc', false],
    // `*` is within one segment, and may be empty there.
    ['/var/log/*', '/var/log/a/b', false],
    ['/var/log/*', '/var/log', false],
    ['/var/log/app-*.log', '/var/log/app-.log', true],
    ['/var/log/app-*.log', '/var/log/app-1.log', true],
    ['/var/log/app-*.log', '/var/log/app-1.log.gz', false],
    ['/var/log/app-*.log', '/var/log/xapp-1.log', false],
    ['/var/*/app.log', '/var/x/app.log', true],
    ['/var/*/app.log', '/var/x/y/app.log', false],
    // `**` is any number of whole segments, zero included, at the start, middle or end.
    ['/srv/**/current', '/srv/current', true],
    ['/srv/**/current', '/srv/a/current', true],
    ['/srv/**/current', '/srv/a/b/c/current', true],
    ['/srv/**/current', '/srv/a/b/c/current/x', false],
    ['/srv/**/current', '/srv/a/b/currentx', false],
    ['/srv/**/current', '/srvx/a/current', false],
    ['/**/id_rsa', '/home/u/.ssh/id_rsa', true],
    ['/**/id_rsa', '/id_rsa', true],
    ['/**/id_rsa', '/home/u/.ssh/id_rsa.pub', false],
    ['/var/log/**', '/var/log/a/b/c', true],
    ['/var/log/**', '/var', false],
    ['/a/**/b/**/c', '/a/x/b/y/c', true],
    ['/a/**/b/**/c', '/a/b/c', true],
    ['/a/**/b/**/c', '/a/x/y/c', false],
  ]
  for (const [glob, value, fits] of cases) {
    it(`${glob} ${fits ? 'fits' : 'refuses'} ${value}`, () => {
      const reason = checkTemplateArgument(parseTemplateWord(`{path:${glob}}`), value)
      assert.equal(reason, fits ? undefined : `{path}: outside ${glob}`)
    })
  }
})

describe('isSafeAbsolutePath', () => {
  const cases: [value: string, safe: boolean][] = [
    ['/a', true],
    ['/', false],
    ['', false],
    ['a', false],
    ['ab/c', false],
    [`/${'a'.repeat(1023)}`, true],
    [`/${'a'.repeat(1024)}`, false],
    [`/${'a/'.repeat(511)}a`, true],
    ['/a/', false],
    ['//a', false],
    ['/a//b', false],
    ['/./a', false],
    ['/a/.', false],
    ['/a/..', false],
    ['/../a', false],
    ['/.a/..b/b..', true],
    ['/a b', false],
    ['/a;b', false],
    ['/;a', false],
    ['/a;', false],
    ['/a\u00e9', false],
    ['/aZ09._@:+=,-', true],
  ]
  for (const [value, safe] of cases) {
    it(`${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…(${value.length})` : value)} → ${safe}`, () => assert.equal(isSafeAbsolutePath(value), safe))
  }
})
