import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../src/errors.js'
import { checkTemplateArgument, isSafeAbsolutePath, parseCommandTemplate, parseTemplateWord, pathGlobPattern } from '../../src/policy/command-template.js'
import { ssmConstraintsSchema } from '../../src/policy/ssm-constraints.js'

describe('parseTemplateWord', () => {
  const good: [string, unknown][] = [
    ['systemctl', { kind: 'literal', value: 'systemctl' }],
    ['-n', { kind: 'literal', value: '-n' }],
    ['{word}', { kind: 'word', name: 'word' }],
    ['{unit}', { kind: 'word', name: 'unit' }],
    ['{int}', { kind: 'int', min: 0, max: 100_000 }],
    ['{int:1-1000}', { kind: 'int', min: 1, max: 1000 }],
    ['{path:/var/log/**}', { kind: 'path', glob: '/var/log/**', segments: ['var', 'log', '**'] }],
    ['{status|restart}', { kind: 'choice', options: ['status', 'restart'] }],
  ]
  for (const [word, expected] of good) {
    it(`accepts ${word}`, () => assert.deepEqual(parseTemplateWord(word), expected))
  }
  const bad = [
    '{wrd:1}', '{itn:1-5}', '{int:5-1}', '{int:1-}', '{int:-1-5}', '{int:1-99999999999}', '{path}', '{path:var/log}',
    '{path:x/var/log}', '{path:**}', '{path:*/log}', '{path:/var/log/}', '{path:/var/ log}', '{path:/var/log;}', '{path:/var/../etc}', '{path:/var//log}', '{path:/var/lo**g}', '{path:/var/$x}', '{}', '{a||b}', '{a|a}',
    'pre{word}', '{word}post', '{{word}}', 'it\'s', 'a"b', 'a\\b', 'tab\there', 'caf\u00e9', '{Unit}', '{a b}',
  ]
  for (const word of bad) {
    it(`refuses ${JSON.stringify(word)}`, () => {
      assert.throws(() => parseTemplateWord(word), (e: unknown) => e instanceof ConfigError && e.code === 'POLICY_INVALID')
    })
  }
})

describe('parseCommandTemplate', () => {
  it('requires a literal command name', () => {
    assert.throws(() => parseCommandTemplate(['{word}', '-l']), /command name must be a literal/)
    assert.throws(() => parseCommandTemplate(['{path:/usr/bin/*}']), /command name must be a literal/)
    assert.equal(parseCommandTemplate(['{systemctl|journalctl}', '{word}']).parts.length, 2)
  })
  it('names the offending word', () => {
    assert.throws(() => parseCommandTemplate(['ls', '-l', '{bogus:1}']), /^ConfigError: word 2: /)
  })
})

describe('checkTemplateArgument', () => {
  const word = parseTemplateWord('{word}')
  const int = parseTemplateWord('{int:1-1000}')
  const path = parseTemplateWord('{path:/var/log/**}')
  const logs = parseTemplateWord('{path:/var/log/*.log}')
  const choice = parseTemplateWord('{status|show}')
  const exact = parseTemplateWord('{path:/etc/nginx/nginx.conf}')
  const oneLevel = parseTemplateWord('{path:/var/log/*}')
  const anywhere = parseTemplateWord('{path:/**}')
  const middle = parseTemplateWord('{path:/srv/*/current}')
  const cases: [string, ReturnType<typeof parseTemplateWord>, string, boolean][] = [
    ['word ok', word, 'nginx.service', true],
    ['word with = and ,', word, 'a=b,c', true],
    ['word leading dash', word, '-rf', false],
    ['word long option', word, '--foo', false],
    ['word space', word, 'a b', false],
    ['word semicolon', word, 'a;b', false],
    ['word slash', word, 'a/b', false],
    ['word empty', word, '', false],
    ['word too long', word, 'a'.repeat(129), false],
    ['word non-ascii', word, 'nginx\uff1b', false],
    ['int ok', int, '1000', true],
    ['int below', int, '0', false],
    ['int above', int, '1001', false],
    ['int leading zero', int, '010', false],
    ['int negative', int, '-5', false],
    ['int hex', int, '0x10', false],
    ['int with space', int, '5 ', false],
    ['path deep', path, '/var/log/nginx/access.log', true],
    ['path dir itself', path, '/var/log', true],
    ['path dotdot', path, '/var/log/../../etc/shadow', false],
    ['path dot', path, '/var/log/./x', false],
    ['path double slash', path, '/var/log//x', false],
    ['path trailing slash', path, '/var/log/', false],
    ['path relative', path, 'var/log/x', false],
    ['path outside', path, '/etc/passwd', false],
    ['path percent-encoded', path, '/var/log/%2e%2e/etc', false],
    ['path prefix trick', path, '/var/logs/x', false],
    ['single-segment star', logs, '/var/log/syslog.log', true],
    ['single-segment star is one segment', logs, '/var/log/a/b.log', false],
    ['single-segment star suffix', logs, '/var/log/syslog', false],
    // A glob without wildcards is one exact path, never its subtree or a sibling.
    ['exact path', exact, '/etc/nginx/nginx.conf', true],
    ['exact path: child', exact, '/etc/nginx/nginx.conf/x', false],
    ['exact path: grandchild', exact, '/etc/nginx/nginx.conf/a/b', false],
    ['exact path: parent', exact, '/etc/nginx', false],
    ['exact path: longer name', exact, '/etc/nginx/nginx.conf.bak', false],
    ['exact path: case differs', exact, '/etc/nginx/NGINX.conf', false],
    // Every segment is entirely in the safe charset, whatever the glob lets through.
    ['star segment: semicolon', oneLevel, '/var/log/a;b', false],
    ['star segment: space', oneLevel, '/var/log/a b', false],
    ['star segment: command substitution', oneLevel, '/var/log/$(id)', false],
    ['star segment: quote', oneLevel, "/var/log/a'b", false],
    ['star segment: pipe', oneLevel, '/var/log/syslog|sh', false],
    ['star segment: non-ascii', oneLevel, '/var/log/\u00e9', false],
    ['globstar segment: backtick', anywhere, '/tmp/`id`', false],
    ['star segment ok', oneLevel, '/var/log/syslog.1', true],
    // Absolute only: a value without the leading "/" is refused even when the rest would match.
    ['globstar: relative', anywhere, 'etc/shadow', false],
    ['globstar: relative one word', anywhere, 'shadow', false],
    ['subtree: first letter stands in for "/"', path, 'xvar/log/syslog', false],
    ['star: first letter stands in for "/"', oneLevel, 'Xvar/log/syslog', false],
    ['globstar: empty', anywhere, '', false],
    ['globstar: root', anywhere, '/', false],
    ['globstar: any absolute path', anywhere, '/etc/shadow', true],
    // No empty segment anywhere, even where `*` or `**` would match an empty one.
    ['star: trailing slash', oneLevel, '/var/log/', false],
    ['star: two trailing slashes', oneLevel, '/var/log//', false],
    ['globstar: leading double slash', anywhere, '//etc', false],
    ['globstar: inner double slash', anywhere, '/var//log', false],
    ['middle star: empty segment', middle, '/srv//current', false],
    ['middle star ok', middle, '/srv/app/current', true],
    ['choice ok', choice, 'show', true],
    ['choice other', choice, 'stop', false],
  ]
  for (const [name, part, value, ok] of cases) {
    it(`${name}: ${ok ? 'fits' : 'refused'}`, () => assert.equal(checkTemplateArgument(part, value) === undefined, ok))
  }
  // The instance re-checks canonical paths with the glob as a regular expression: on every
  // normalised path of the table it must agree with the gateway's own check.
  for (const [name, part, value, ok] of cases) {
    if (part.kind !== 'path' || !isSafeAbsolutePath(value)) continue
    it(`${name}: the instance's pattern agrees (${ok ? 'inside' : 'outside'})`, () => {
      assert.equal(new RegExp(pathGlobPattern(part)).test(value), ok, pathGlobPattern(part))
    })
  }
  it('renders globs as anchored patterns with "." and "+" literal', () => {
    const pattern = (glob: string) => {
      const part = parseTemplateWord(`{path:${glob}}`)
      assert.equal(part.kind, 'path')
      return part.kind === 'path' ? pathGlobPattern(part) : ''
    }
    assert.equal(pattern('/var/log/**'), '^/var/log(/[^/]+)*$')
    assert.equal(pattern('/var/log/*.log'), '^/var/log/[^/]*\\.log$')
    assert.equal(pattern('/opt/c++/a'), '^/opt/c\\+\\+/a$')
    assert.equal(pattern('/**'), '^(/[^/]+)*$')
    assert.equal(new RegExp(pattern('/var/log/*.log')).test('/var/log/syslogxlog'), false, 'the dot is literal')
    assert.equal(new RegExp(pattern('/**')).test('/'), false, 'the root is no path inside any tree')
  })
  it('isSafeAbsolutePath refuses root and empty', () => {
    assert.equal(isSafeAbsolutePath('/'), false)
    assert.equal(isSafeAbsolutePath(''), false)
  })
})

describe('ssmConstraintsSchema', () => {
  it('accepts the demo templates', () => {
    const parsed = ssmConstraintsSchema.parse({
      commands: [['systemctl', 'status', '{word}'], ['journalctl', '-u', '{unit}', '-n', '{int:1-1000}'], ['tail', '-n', '{int}', '{path:/var/log/**}']],
    })
    assert.equal(parsed.commands.length, 3)
    assert.equal(parsed.timeoutSeconds, 60)
  })
  it('fails policy load at the template word path', () => {
    const result = ssmConstraintsSchema.safeParse({ commands: [['uptime'], ['tail', '{int:9-1}']] })
    assert.equal(result.success, false)
    const issue = result.error?.issues[0]
    assert.deepEqual(issue?.path, ['commands', 1, 1])
    assert.match(issue?.message ?? '', /lower bound above upper bound/)
  })
  it('fails policy load when the program is a placeholder', () => {
    const result = ssmConstraintsSchema.safeParse({ commands: [['{word}', 'x']] })
    assert.equal(result.success, false)
    assert.deepEqual(result.error?.issues[0]?.path, ['commands', 0, 0])
  })
})
