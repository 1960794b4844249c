import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { GuardError } from '../../../src/errors.js'
import { matchTemplate } from '../../../src/guard/shell/match-template.js'
import { createPosixShellParser, type PosixShellParser, type ShFile } from '../../../src/guard/shell/posix-shell-parser.js'
import { quoteArgv } from '../../../src/guard/shell/quote-argv.js'
import { tokenizeCommand } from '../../../src/guard/shell/tokenize-command.js'
import { parseCommandTemplate } from '../../../src/policy/command-template.js'
import { ESCAPE_FIXTURES, TEST_TEMPLATES } from './escape-fixtures.js'

const run = promisify(execFile)
const templates = TEST_TEMPLATES.map((t) => parseCommandTemplate(t))

/** What the guard would let through: tokenize, then match. */
async function guard(input: string): Promise<{ argv: string[]; index: number }> {
  const argv = await tokenizeCommand(input)
  return { argv, index: matchTemplate(argv, templates) }
}

/** Runs the quoted line through a real /bin/sh and returns the argv it saw. */
async function shellArgv(argv: readonly string[]): Promise<string[]> {
  const { stdout } = await run('/bin/sh', ['-c', quoteArgv(['printf', '%s\\0', ...argv])])
  return stdout.split('\0').slice(0, -1)
}

describe('escape attempts', () => {
  it('has a real fixture table', () => assert.ok(ESCAPE_FIXTURES.length >= 30, 'ESCAPE_FIXTURES.length >= 30'))
  for (const fixture of ESCAPE_FIXTURES) {
    it(`refuses ${fixture.name}`, async () => {
      await assert.rejects(guard(fixture.input), (e: unknown) => {
        assert.ok(e instanceof GuardError, `expected GuardError, got ${String(e)}`)
        assert.equal(e.code, fixture.code, e.message)
        return true
      })
    })
  }
})

describe('allowed commands', () => {
  const allowed: [string, string[], number][] = [
    ['uptime', ['uptime'], 0],
    ['  df   -h  ', ['df', '-h'], 1],
    ["echo 'a=b,c'", ['echo', 'a=b,c'], 2],
    ['systemctl status nginx.service', ['systemctl', 'status', 'nginx.service'], 3],
    ['systemctl "is-active" sshd', ['systemctl', 'is-active', 'sshd'], 3],
    ["journalctl -u 'nginx' -n \"50\"", ['journalctl', '-u', 'nginx', '-n', '50'], 4],
    ['journalctl -u ngi"nx" -n 1000', ['journalctl', '-u', 'nginx', '-n', '1000'], 4],
    ['tail -n 100 /var/log/nginx/access.log', ['tail', '-n', '100', '/var/log/nginx/access.log'], 5],
    ['cat /var/log/syslog.log', ['cat', '/var/log/syslog.log'], 6],
    ['find /var/log -name access.log', ['find', '/var/log', '-name', 'access.log'], 7],
    ['tar -tf /var/backups/home.tar', ['tar', '-tf', '/var/backups/home.tar'], 8],
  ]
  for (const [input, argv, index] of allowed) {
    it(`matches ${JSON.stringify(input)} and round-trips through sh`, async () => {
      const result = await guard(input)
      assert.deepEqual(result, { argv, index })
      assert.deepEqual(await shellArgv(result.argv), argv)
    })
  }
})

describe('agreement with a real shell', () => {
  // A fixed-seed generator over safe characters, quotes and metacharacters: every line the guard
  // accepts must split into exactly the words /bin/sh gives. Only accepted lines reach the shell,
  // and they are printed, never run, so a guard bug here cannot do more than print.
  it('splits every accepted random line as /bin/sh does', async () => {
    const safe = ['a', 'b', '-', '=', '.', '/', ' ', "'", '"']
    const alphabet = [...safe, ...safe, ...safe, '$', '`', '\\', ';', '#', '~', '*', '!', '{', '}', '(', '&', '|', '<']
    let seed = 42
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 16) % n
    }
    const accepted: [string, string[]][] = []
    for (let i = 0; i < 3000; i++) {
      const line = Array.from({ length: 1 + next(14) }, () => alphabet[next(alphabet.length)] ?? '').join('')
      try {
        accepted.push([line, await tokenizeCommand(line)])
      } catch (e) {
        assert.ok(e instanceof GuardError && e.code === 'COMMAND_SYNTAX_REFUSED', String(e))
      }
    }
    assert.ok(accepted.length > 100, `only ${accepted.length} lines accepted`)
    const script = accepted.map(([line]) => `printf '%s\\0' ${line}; printf '\\001\\0'`).join('\n')
    const { stdout } = await run('/bin/sh', ['-c', script], { maxBuffer: 1 << 24 })
    const seen = stdout.split('\u0001\0').slice(0, -1).map((chunk) => chunk.split('\0').slice(0, -1))
    assert.deepEqual(seen, accepted.map(([, argv]) => argv))
  })
})

describe('parser failure', () => {
  it('refuses an otherwise allowed command when the shell parser cannot run (fail closed)', async () => {
    const broken = createPosixShellParser({ loadWasm: () => Uint8Array.from([0, 1, 2]) })
    await assert.rejects(tokenizeCommand('uptime', broken), (e: unknown) => {
      assert.ok(e instanceof GuardError, `expected GuardError, got ${String(e)}`)
      assert.equal(e.code, 'COMMAND_SYNTAX_REFUSED')
      assert.match(e.message, /shell parser unavailable/)
      return true
    })
    assert.deepEqual(await tokenizeCommand('uptime'), ['uptime'])
  })
})

describe('lexer refusal reasons', () => {
  // The reason is what an operator reads in the audit trail; each names what was found.
  const reasons: [string, RegExp][] = [
    ['uptime;reboot', /command separator ";"/],
    ['sleep 1&', /operator "&"/],
    ['uptime|sh', /pipe or "\|\|"/],
    ['cat <x', /redirection/],
    ['echo a>x', /redirection/],
    ['echo $HOME', /expansion \("\$"\)$/],
    ['echo `id`', /command substitution \(backtick\)$/],
    ['ls *', /unquoted glob character/],
    ['ls a?', /unquoted glob character/],
    ['ls [ab]', /unquoted glob character/],
    ['ls a]', /unquoted glob character/],
    ['echo {a,b}', /brace expansion or group/],
    ['echo a}', /brace expansion or group/],
    ['cat ~', /tilde expansion/],
    ['uptime #x', /comment/],
    ['echo !!', /negation or history expansion/],
    ['echo (a)', /subshell or function syntax/],
    ['echo a)', /subshell or function syntax/],
    ['echo a\\b', /backslash escape$/],
    ['echo a\tb', /control character/],
    ['echo a\u007fb', /control character/],
    ['echo a\0b', /NUL byte/],
    ['echo a\rb', /newline or carriage return/],
    ['echo a\nb', /newline or carriage return/],
    ['echo caf\u00e9', /non-ASCII character/],
    ['echo "$x"', /expansion \("\$"\) inside double quotes/],
    ['echo "`id`"', /command substitution \(backtick\) inside double quotes/],
    ['echo "a\\b"', /backslash escape inside double quotes/],
    ['echo "a!"', /"!" inside double quotes/],
    ['echo "abc', /unterminated double quote/],
    ["echo 'abc", /unterminated single quote/],
    ['   ', /empty command/],
    ['', /empty command/],
    ['A=1 uptime', /variable assignment prefix/],
    ['"A=1" uptime', /variable assignment prefix/],
    ['while uptime', /reserved word "while"/],
    ['x'.repeat(4097), /longer than 4096 bytes/],
  ]
  for (const [input, reason] of reasons) {
    it(`refuses ${JSON.stringify(input.slice(0, 24))} naming ${String(reason)}`, async () => {
      await assert.rejects(tokenizeCommand(input), (e: unknown) => {
        assert.ok(e instanceof GuardError, `expected GuardError, got ${String(e)}`)
        assert.equal(e.code, 'COMMAND_SYNTAX_REFUSED')
        assert.match(e.message, reason)
        assert.ok(!e.message.includes('POSIX parser'), e.message)
        return true
      })
    })
  }
  for (const word of ['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', 'function', 'select', 'time']) {
    it(`refuses the reserved word ${word} as the command`, async () => {
      await assert.rejects(tokenizeCommand(`${word} uptime`), new RegExp(`reserved word "${word}"`))
    })
  }
  it('throws TypeError for a non-string (misuse)', async () => {
    await assert.rejects(Reflect.apply(tokenizeCommand, undefined, [42]), (e: unknown) => e instanceof TypeError && /expects a string/.test(e.message))
  })
  it('counts the limit in bytes and allows exactly 4096', async () => {
    assert.equal((await tokenizeCommand(`echo ${'x'.repeat(4091)}`)).length, 2)
    await assert.rejects(tokenizeCommand(`echo ${'x'.repeat(4092)}`), /longer than 4096 bytes/)
    await assert.rejects(tokenizeCommand(`echo '${'\u00e9'.repeat(2046)}'`), /longer than 4096 bytes/)
  })
  it('keeps quoted text and plain characters in one word', async () => {
    assert.deepEqual(await tokenizeCommand(`echo a'b c'"d e"f -x=1,2:3@4+5%6^7/8.9_0`), ['echo', 'ab cd ef', '-x=1,2:3@4+5%6^7/8.9_0'])
    assert.deepEqual(await tokenizeCommand(`echo '' ""`), ['echo', '', ''])
  })
})

describe('POSIX parser cross-check', () => {
  // The lexer accepts every line below; a parser that disagrees with it about the structure must
  // turn the line into a refusal. The real parser is used and its tree then altered, standing in
  // for a parser/lexer disagreement no known input produces today.
  const real = createPosixShellParser()
  function disagreeing(alter: (file: ShFile) => void): PosixShellParser {
    return {
      parse(input) {
        const result = real.parse(input)
        if (!result.ok) return result
        const file = structuredClone(result.file)
        alter(file)
        return { ok: true, file }
      },
    }
  }
  const only = (file: ShFile): ShFile['Stmts'][number] => {
    const stmt = file.Stmts[0]
    if (stmt === undefined) assert.fail('the real parser saw no statement')
    return stmt
  }
  const cases: [string, string, (file: ShFile) => void, RegExp][] = [
    ['a trailing comment', 'uptime', (f) => { f.Last = [{}] }, /parser sees trailing comment/],
    ['a second statement', 'df -h', (f) => { f.Stmts.push(only(f)) }, /parser sees more than one command/],
    ['no statement', 'uptime', (f) => { f.Stmts = [] }, /parser sees more than one command/],
    ['a statement without a command', 'uptime', (f) => { only(f).Cmd = null }, /parser sees no command/],
    ['a comment', 'df -h', (f) => { only(f).Comments = [{}] }, /parser sees comment/],
    ['a redirection', "echo 'a=b,c'", (f) => { only(f).Redirs = [{}] }, /parser sees redirection/],
    ['a negation', 'uptime', (f) => { only(f).Negated = true }, /parser sees negation/],
    ['a background job', 'uptime', (f) => { only(f).Background = true }, /parser sees background job/],
    ['a coprocess', 'uptime', (f) => { only(f).Coprocess = true }, /parser sees background job/],
    ['a separator', 'df -h', (f) => { only(f).Semicolon.Line = 1 }, /parser sees command separator/],
    ['the command starting elsewhere', 'df -h', (f) => { const cmd = only(f).Cmd; if (cmd !== null) cmd.Pos.Offset += 1 }, /other offsets than the lexer/],
    ['the command ending elsewhere', 'df -h', (f) => { const cmd = only(f).Cmd; if (cmd !== null) cmd.End.Offset -= 1 }, /other offsets than the lexer/],
  ]
  for (const [name, input, alter, reason] of cases) {
    it(`refuses ${JSON.stringify(input)} when the parser sees ${name}`, async () => {
      await assert.rejects(tokenizeCommand(input, disagreeing(alter)), (e: unknown) => {
        assert.ok(e instanceof GuardError, `expected GuardError, got ${String(e)}`)
        assert.equal(e.code, 'COMMAND_SYNTAX_REFUSED')
        assert.match(e.message, reason)
        return true
      })
      assert.equal((await tokenizeCommand(input, disagreeing(() => undefined))).length > 0, true, 'the unaltered tree passes')
    })
  }
  it('accepts a tree that leaves out the trailing comments and redirections (null)', async () => {
    const bare = disagreeing((f) => {
      f.Last = null
      only(f).Redirs = null
    })
    assert.deepEqual(await tokenizeCommand('df -h', bare), ['df', '-h'])
  })
  it('refuses a line the parser calls a syntax error, with its own reason and the result as cause', async () => {
    const failure = { ok: false, failure: 'syntax', detail: 'stand-in' } as const
    const syntaxOnly: PosixShellParser = { parse: () => failure }
    await assert.rejects(tokenizeCommand('uptime', syntaxOnly), (e: unknown) => {
      assert.ok(e instanceof GuardError, `expected GuardError, got ${String(e)}`)
      assert.match(e.message, /does not parse as a POSIX shell command/)
      assert.deepEqual(e.cause, failure)
      return true
    })
  })
  it('never lets the lexer\'s refusals read as the parser\'s', async () => {
    for (const input of ['uptime; reboot', 'cat x > y', 'a # c', '! true', 'sleep 1 &']) {
      await assert.rejects(tokenizeCommand(input), (e: unknown) => e instanceof GuardError && !e.message.includes('POSIX parser'))
    }
  })
})

describe('quoteArgv', () => {
  const nasty = ["it's", '$(id)', '`id`', '${IFS}', 'a b', '*', '~', '\\', 'line\nbreak', '"', "''", '', '-n', ';reboot', '!!', '\u00e9']
  it('quotes every word so sh sees exactly the argv', async () => {
    assert.deepEqual(await shellArgv(nasty), nasty)
  })
  it('single-quotes each word', () => {
    assert.equal(quoteArgv(['echo', "it's"]), "'echo' 'it'\\''s'")
  })
  it('rejects misuse', () => {
    assert.throws(() => quoteArgv([]), TypeError)
    assert.throws(() => quoteArgv(['a\0b']), TypeError)
  })
})

describe('matchTemplate', () => {
  it('reports the closest mismatch', () => {
    assert.throws(() => matchTemplate(['journalctl', '-u', 'nginx', '-n', '0'], templates), /^GuardError: closest allowed command: `journalctl -u \{unit\} -n \{int:1-1000\}`; word 5 \("0"\): \{int\}: expected 1–1000$/)
  })
  it('names the first mismatch past the program name, and none when every mismatch is the program', () => {
    const own = [['ls', '{word}'], ['df', '{word}'], ['du', '-s'], ['du', '{int}']].map((t) => parseCommandTemplate(t))
    const message = (argv: string[]): string => {
      try {
        matchTemplate(argv, own)
      } catch (e) {
        if (e instanceof GuardError) return e.message
      }
      return assert.fail('expected a refusal')
    }
    assert.equal(message(['du', '-x']), 'closest allowed command: `du -s`; word 2 ("-x"): expected "-s"')
    assert.equal(message(['rm', 'x']), 'no template of your grant runs "rm"')
    assert.equal(message(['rm', 'x', 'y']), 'no template of your grant runs "rm"')
    // A template of another length is named when none of the same length is for this program.
    assert.equal(message(['ls', 'a', 'b']), 'closest allowed command: `ls {word}`; word 3 ("b"): the template ends before this word')
    assert.equal(message(['df']), 'closest allowed command: `df {word}`; after word 1: your command ends where the template continues with {word}')
    // Of two templates for the program, the one that matches longest is named, as written (not by index).
    const two = [['tail', '-n', '{int:1-500}', '{path:/var/log/**}'], ['tail', '-f', '{path:/var/log/**}']].map((t) => parseCommandTemplate(t))
    assert.throws(() => matchTemplate(['tail', '-n', '900', '/var/log/syslog'], two), { message: 'closest allowed command: `tail -n {int:1-500} {path:/var/log/**}`; word 3 ("900"): {int}: expected 1–500' })
  })
  it('names the closest template by length first, then by the longest match, then by policy order', () => {
    const closest = (argv: string[], written: string[][]): string => {
      try {
        matchTemplate(argv, written.map((t) => parseCommandTemplate(t)))
      } catch (e) {
        if (e instanceof GuardError && e.code === 'COMMAND_NOT_ALLOWED') return e.message.replace(/;.*$/, '')
      }
      return assert.fail(`expected a refusal of ${argv.join(' ')}`)
    }
    // A template of the command's length beats one of another length that matches more words, in either order.
    const byLength = [['ls', '-l', '{word}'], ['ls', '{int}']]
    assert.equal(closest(['ls', '-l'], byLength), 'closest allowed command: `ls {int}`')
    assert.equal(closest(['ls', '-l'], [...byLength].reverse()), 'closest allowed command: `ls {int}`')
    // Of the same length, the longer match, in either order.
    const sameLength = [['tail', '-f', '{word}'], ['tail', '-n', '{int}']]
    assert.equal(closest(['tail', '-n', 'x'], sameLength), 'closest allowed command: `tail -n {int}`')
    assert.equal(closest(['tail', '-n', 'x'], [...sameLength].reverse()), 'closest allowed command: `tail -n {int}`')
    // Of other lengths only, the longer match, in either order.
    const otherLengths = [['tail', '{int}'], ['tail', '-n', '{int}']]
    assert.equal(closest(['tail', '-n', '5', 'x'], otherLengths), 'closest allowed command: `tail -n {int}`')
    assert.equal(closest(['tail', '-n', '5', 'x'], [...otherLengths].reverse()), 'closest allowed command: `tail -n {int}`')
    // A tie goes to the first in policy order.
    const tie = [['tail', '-n'], ['tail', '-n', '{int}']]
    assert.equal(closest(['tail', '-n', 'x', 'y'], tie), 'closest allowed command: `tail -n`')
    assert.equal(closest(['tail', '-n', 'x', 'y'], [...tie].reverse()), 'closest allowed command: `tail -n {int}`')
    assert.throws(() => matchTemplate([], tie.map((t) => parseCommandTemplate(t))), { message: 'no template of your grant runs ""' })
  })
  it('refuses with no templates', () => {
    assert.throws(() => matchTemplate(['uptime'], []), (e: unknown) => e instanceof GuardError && e.code === 'COMMAND_NOT_ALLOWED')
  })
})
