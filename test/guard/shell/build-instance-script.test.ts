import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildInstanceScript, findPathRefusal, PATH_REFUSED_EXIT_CODE, type PathRefusal } from '../../../src/guard/shell/build-instance-script.js'
import { quoteArgv } from '../../../src/guard/shell/quote-argv.js'
import { parseCommandTemplate } from '../../../src/policy/command-template.js'

const NONCE = '0123456789abcdef0123456789abcdef'

/** Runs a script with the host's /bin/sh (dash here), as the SSM agent's aws:runShellScript does. */
function runSh(script: string, cwd: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { cwd, env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.once('error', reject)
    child.once('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr }))
  })
}

interface Case {
  readonly name: string
  /** Template words with `<R>` for the test's root directory. */
  readonly template: readonly string[]
  /** Argv with `<R>` for the root. */
  readonly argv: readonly string[]
  /** The refusal, or what the command printed when it ran. */
  readonly expect: PathRefusal | { readonly stdout: string | RegExp }
}

// The tree: <R>/var/log is allowed; <R>/etc and everything else is not.
const CASES: readonly Case[] = [
  // Refused: text inside the tree, but it leads out of it on the machine.
  { name: 'a file link to a file outside the tree', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/app/config.log'], expect: { word: 1, reason: 'outside' } },
  { name: 'a directory link out of the tree, then a file', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/etc/app.conf'], expect: { word: 1, reason: 'outside' } },
  { name: 'an absolute link out of the tree', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/app/absolute.log'], expect: { word: 1, reason: 'outside' } },
  { name: 'a chain of links whose last hop leaves', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/chain.log'], expect: { word: 1, reason: 'outside' } },
  { name: 'a link to the tree’s parent', template: ['find', '{path:<R>/var/log/**}', '-name', '{word}'], argv: ['find', '<R>/var/log/up', '-name', 'x'], expect: { word: 1, reason: 'outside' } },
  { name: 'a link to a look-alike sibling directory', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/sibling/app.conf'], expect: { word: 1, reason: 'outside' } },
  { name: 'a one-segment glob reached through a deeper target', template: ['cat', '{path:<R>/var/log/*.log}'], argv: ['cat', '<R>/var/log/flat.log'], expect: { word: 1, reason: 'outside' } },
  { name: 'a link into a name outside the safe charset', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/odd.log'], expect: { word: 1, reason: 'outside' } },
  { name: 'a dangling link', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/dangling.log'], expect: { word: 1, reason: 'unresolved' } },
  { name: 'a link loop', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/loop.log'], expect: { word: 1, reason: 'unresolved' } },
  { name: 'a missing file', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/app/missing.log'], expect: { word: 1, reason: 'unresolved' } },
  { name: 'the second of two paths leaves', template: ['diff', '{path:<R>/var/log/**}', '{path:<R>/var/log/**}'], argv: ['diff', '<R>/var/log/app/app.log', '<R>/var/log/app/config.log'], expect: { word: 2, reason: 'outside' } },
  // Runs: links that stay inside the tree, and plain paths.
  { name: 'a plain file', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/app/app.log'], expect: { stdout: 'app line\n' } },
  { name: 'a file link inside the tree', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/app/current.log'], expect: { stdout: 'app line\n' } },
  { name: 'a directory link inside the tree', template: ['cat', '{path:<R>/var/log/**}'], argv: ['cat', '<R>/var/log/current/app.log'], expect: { stdout: 'app line\n' } },
  { name: 'the tree’s root itself', template: ['find', '{path:<R>/var/log/**}', '-name', '{word}'], argv: ['find', '<R>/var/log', '-name', 'app.log'], expect: { stdout: /\/var\/log\/app\/app\.log\n$/ } },
  { name: 'the command gets the canonical path', template: ['find', '{path:<R>/var/log/**}', '-name', '{word}'], argv: ['find', '<R>/var/log/current', '-name', 'app.log'], expect: { stdout: /^\/\S+\/var\/log\/app\/app\.log\n$/ } },
  { name: 'a one-segment glob through a link in the same directory', template: ['cat', '{path:<R>/var/log/*.log}'], argv: ['cat', '<R>/var/log/top.log'], expect: { stdout: 'top line\n' } },
]

describe('buildInstanceScript: path arguments resolved and re-checked on the machine, by a real /bin/sh', () => {
  let root = ''
  before(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), 'airlock-paths-')))
    const at = (path: string) => join(root, path)
    for (const dir of ['var/log/app', 'var/logs', 'etc', 'weird']) await mkdir(at(dir), { recursive: true })
    await writeFile(at('var/log/app/app.log'), 'app line\n')
    await writeFile(at('var/log/real-top.log'), 'top line\n')
    await writeFile(at('etc/app.conf'), 'db_password=x\n')
    await writeFile(at('var/logs/app.conf'), 'sibling\n')
    await writeFile(at('weird/a b.log'), 'odd\n')
    const links: [string, string][] = [
      ['var/log/app/config.log', '../../../etc/app.conf'],
      ['var/log/etc', '../../etc'],
      ['var/log/app/absolute.log', at('etc/app.conf')],
      ['var/log/hop.log', 'app/config.log'],
      ['var/log/chain.log', 'hop.log'],
      ['var/log/up', '..'],
      ['var/log/sibling', '../logs'],
      ['var/log/flat.log', 'app/app.log'],
      ['var/log/odd.log', '../../weird/a b.log'],
      ['var/log/dangling.log', 'nothing-here.log'],
      ['var/log/loop.log', 'loop.log'],
      ['var/log/app/current.log', 'app.log'],
      ['var/log/current', 'app'],
      ['var/log/top.log', 'real-top.log'],
    ]
    for (const [path, target] of links) await symlink(target, at(path))
  })
  after(() => rm(root, { recursive: true, force: true }))

  const fill = (words: readonly string[]) => words.map((w) => w.replaceAll('<R>', root))

  for (const c of CASES) {
    const refused = 'word' in c.expect
    it(`${c.name}: ${refused ? 'refused before the command runs' : 'runs'}`, async () => {
      const script = buildInstanceScript(fill(c.argv), parseCommandTemplate(fill(c.template)), NONCE)
      const outcome = await runSh(script, root)
      if ('word' in c.expect) {
        assert.equal(outcome.exitCode, PATH_REFUSED_EXIT_CODE, outcome.stderr)
        assert.deepEqual(findPathRefusal(outcome, NONCE), c.expect)
        assert.equal(outcome.stdout, '', 'nothing ran')
      } else {
        assert.equal(outcome.exitCode, 0, outcome.stderr)
        assert.equal(findPathRefusal(outcome, NONCE), undefined)
        if (typeof c.expect.stdout === 'string') assert.equal(outcome.stdout, c.expect.stdout)
        else assert.match(outcome.stdout, c.expect.stdout)
      }
    })
  }

  it('leaves a template without paths as the quoted argv alone', () => {
    assert.equal(buildInstanceScript(['echo', "it's"], parseCommandTemplate(['echo', '{word}']), NONCE), quoteArgv(['echo', "it's"]))
  })

  it('never takes the command’s own output for a refusal', async () => {
    const forged = `airlock-path-refused:${NONCE}:1:outside`
    assert.equal(findPathRefusal({ exitCode: PATH_REFUSED_EXIT_CODE, stderr: `${forged}\n` }, 'f'.repeat(32)), undefined, 'another call’s nonce')
    assert.equal(findPathRefusal({ exitCode: 1, stderr: `${forged}\n` }, NONCE), undefined, 'another exit code')
    assert.equal(findPathRefusal({ exitCode: PATH_REFUSED_EXIT_CODE, stderr: `x${forged}\n` }, NONCE), undefined, 'not at the start of a line')
    assert.equal(findPathRefusal({ exitCode: PATH_REFUSED_EXIT_CODE, stderr: `${forged}!\n` }, NONCE), undefined, 'trailing text')
    assert.deepEqual(findPathRefusal({ exitCode: PATH_REFUSED_EXIT_CODE, stderr: `noise\n${forged}\n` }, NONCE), { word: 1, reason: 'outside' })
  })

  it('throws TypeError for an argv that does not fit its template, or a nonce that is not hex', () => {
    const template = parseCommandTemplate(['cat', '{path:/var/log/**}'])
    assert.throws(() => buildInstanceScript(['cat'], template, NONCE), TypeError)
    assert.throws(() => buildInstanceScript(['cat', '/var/log/x'], template, "x'; reboot; '"), TypeError)
  })
})
