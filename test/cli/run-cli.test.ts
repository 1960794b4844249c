import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { z } from 'zod'
import type { CliIo } from '../../src/cli/cli-io.js'
import { COMMAND_USAGE, type UsageKey } from '../../src/cli/command-usage.js'
import { crashLine } from '../../src/cli/report-crash.js'
import { runCli } from '../../src/cli/run-cli.js'
import { ConfigError } from '../../src/errors.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
// The child runs in a scratch directory, so tsx is named by its resolved location.
const TSX = import.meta.resolve('tsx')
const run = promisify(execFile)

/** Every command and subcommand; the top-level usage must list each, and each must have its own usage. */
const COMMANDS: readonly UsageKey[] = ['serve', 'sandbox', 'sandbox trail', 'token', 'policy', 'policy check', 'policy explain', 'policy schema', 'audit', 'audit verify', 'audit tail', 'approvals', 'approvals list', 'approvals approve', 'approvals deny', 'iam-policy', 'verify']

let cwd: string
before(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'airlock-cli-'))
})
after(async () => {
  await rm(cwd, { recursive: true, force: true })
})

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  // A shutdown signal already aborted: a command that started something would stop at once rather than hang the test.
  const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd, env: {}, shutdown: AbortSignal.abort() }
  return { code: await runCli(argv, io), out, err }
}

describe('airlock --help, --version and unknown flags', () => {
  it('the table covers every command the top-level usage lists', async () => {
    const { out } = await cli(['--help'])
    const listed = new Set([...out.matchAll(/^ {2}([a-z-]+)(?: ([a-z]+))?/gm)].flatMap((m) => [m[1], m[2] === undefined ? undefined : `${m[1]} ${m[2]}`]))
    assert.deepEqual(COMMANDS.filter((key) => !listed.has(key)), [], 'every command and subcommand is in the top-level usage')
    assert.deepEqual(Object.keys(COMMAND_USAGE).sort(), [...COMMANDS].sort())
  })

  for (const key of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      it(`airlock ${key} ${flag}: its usage on stdout, exit 0, nothing started`, async () => {
        const result = await cli([...key.split(' '), flag])
        assert.deepEqual(result, { code: 0, out: `${COMMAND_USAGE[key]}\n`, err: '' })
        assert.ok(result.out.startsWith(`usage: airlock ${key}`), `the usage of ${key} names it: ${result.out.split('\n')[0]}`)
        assert.deepEqual(await readdir(cwd), [], 'nothing was written')
      })
    }
    it(`airlock ${key} --no-such-flag: named in one line, exit 2, nothing started`, async () => {
      const result = await cli([...key.split(' '), '--no-such-flag'])
      assert.equal(result.code, 2)
      assert.equal(result.out, '')
      const [first] = result.err.split('\n')
      assert.match(first ?? '', /^airlock [a-z -]+: unknown (option|subcommand) "?--no-such-flag"?$/)
      assert.deepEqual(await readdir(cwd), [], 'nothing was written')
    })
  }

  it('--help after -- is an argument, not a request for help', async () => {
    const result = await cli(['policy', 'check', '--', '--help'])
    assert.equal(result.code, 1, result.err)
    assert.match(result.out, /--help/)
  })

  it('--version prints the package version; no arguments is a usage error on stderr', async () => {
    const { version } = z.object({ version: z.string() }).parse(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')))
    assert.deepEqual(await cli(['--version']), { code: 0, out: `airlock ${version}\n`, err: '' })
    assert.deepEqual(await cli(['-V']), { code: 0, out: `airlock ${version}\n`, err: '' })
    const none = await cli([])
    assert.equal(none.code, 2)
    assert.equal(none.out, '')
    assert.match(none.err, /^usage: airlock <command>/)
    const flag = await cli(['--verbose'])
    assert.equal(flag.code, 2)
    assert.match(flag.err, /^airlock: unknown option "--verbose"\n/)
  })

  it('as a process: sandbox --help exits 0 and creates nothing; an unknown flag exits 2 with one line', async () => {
    const help = await run(process.execPath, ['--import', TSX, MAIN, 'sandbox', '--help'], { cwd })
    assert.match(help.stdout, /^usage: airlock sandbox /)
    assert.ok(!existsSync(join(cwd, '.airlock')), 'sandbox --help must not create .airlock/')
    const bad = await run(process.execPath, ['--import', TSX, MAIN, 'sandbox', '--prot', '8080'], { cwd }).then(
      () => assert.fail('exit 0 for an unknown flag'),
      (error: unknown) => z.object({ code: z.number(), stdout: z.string(), stderr: z.string() }).parse(error),
    )
    assert.equal(bad.code, 2)
    assert.equal(bad.stdout, '')
    assert.match(bad.stderr, /^airlock sandbox: unknown option --prot\nusage: airlock sandbox /)
    assert.ok(!existsSync(join(cwd, '.airlock')), 'a refused flag must not create .airlock/')
  })
})

describe('airlock sandbox trail', () => {
  it('prints whole entries and skips a line still being appended', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-trail-'))
    try {
      await mkdir(join(dir, '.airlock'))
      const entry = { at: '2026-01-01T00:00:00.000Z', service: 'sts', action: 'AssumeRole', principalArn: 'arn:aws:sts::1:assumed-role/r/s', outcome: 'ok' }
      await writeFile(join(dir, '.airlock', 'trail.jsonl'), `${JSON.stringify(entry)}\n{"at":"2026-01-01T00:00:01`)
      let out = ''
      let err = ''
      const code = await runCli(['sandbox', 'trail'], { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: dir, env: {} })
      assert.deepEqual({ code, out, err }, { code: 0, out: '2026-01-01T00:00:00.000Z  sts:AssumeRole  ok  by arn:aws:sts::1:assumed-role/r/s\n', err: '' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('what escapes a command', () => {
  it('is one line with its code, never a stack trace', () => {
    const refused = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'), { code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port: 8080 })
    assert.equal(crashLine(refused, false), 'airlock: failed: EADDRINUSE listen 127.0.0.1:8080 (AIRLOCK_DEBUG=1 shows the stack)\n')
    assert.equal(crashLine(new ConfigError('CONFIG_INVALID', 'a.json: bad\nsecond line'), false), 'airlock: CONFIG_INVALID: a.json: bad (AIRLOCK_DEBUG=1 shows the stack)\n')
    assert.equal(crashLine(new RangeError('x\u001b[2J'), false), 'airlock: unexpected RangeError: x?[2J (AIRLOCK_DEBUG=1 shows the stack)\n')
    assert.equal(crashLine('thrown string', false), 'airlock: failed (AIRLOCK_DEBUG=1 shows the stack)\n')
    assert.match(crashLine(new RangeError('x'), true), /^airlock: unexpected RangeError: x\nRangeError: x\n {4}at /)
  })
})
