import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const TSX = import.meta.resolve('tsx')

interface Exit {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `airlock <argv>` as a process in `cwd`; resolves with its exit whatever the code. */
function airlock(argv: string[], cwd: string): Promise<Exit> {
  return promisify(execFile)(process.execPath, ['--import', TSX, MAIN, ...argv], { cwd, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: unknown; stdout?: string; stderr?: string }) => ({ code: typeof error.code === 'number' ? error.code : -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  )
}

/** What a second start must leave as it was: content and modification time. */
async function fingerprint(path: string): Promise<string> {
  const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
  return `${info.mtimeMs} ${text}`
}

describe('a second sandbox refuses before touching the first one', { timeout: 180_000 }, () => {
  let cwd: string
  let elsewhere: string
  let first: Sandbox
  let port: number

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'airlock-sandbox-once-'))
    elsewhere = await mkdtemp(join(tmpdir(), 'airlock-sandbox-other-'))
    first = await startSandbox({ cwd, port: 0 })
    port = Number(new URL(first.gatewayUrl).port)
    // A call through the gateway, so the first sandbox's trail has something to lose.
    const client = await whoami()
    await client.close()
    assert.notEqual((await readFile(first.paths.trail, 'utf8')).trim(), '', 'the first sandbox has recorded AWS calls')
  })
  after(async () => {
    await first.close()
    await rm(cwd, { recursive: true, force: true })
    await rm(elsewhere, { recursive: true, force: true })
  })

  async function whoami(): Promise<Client> {
    const token = await first.idp.mintToken('alice')
    const client = new Client({ name: 'sandbox-once', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(first.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
    const result = await client.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'SELECT count(*) FROM orders' } })
    assert.equal(result.isError, undefined, JSON.stringify(result.content))
    return client
  }

  const cases: { readonly name: string; readonly argv: () => string[]; readonly dir: () => string; readonly refusal: () => RegExp }[] = [
    {
      name: 'in the same directory, on the same port',
      argv: () => ['sandbox', '--port', String(port)],
      dir: () => cwd,
      refusal: () => new RegExp(`^airlock: a sandbox is already running in this directory \\(pid ${process.pid} at http://127\\.0\\.0\\.1:${port}/mcp\\); use it, or stop it with Ctrl-C first\\n$`),
    },
    {
      name: 'in the same directory, on another port',
      argv: () => ['sandbox', '--port', '0'],
      dir: () => cwd,
      refusal: () => /^airlock: a sandbox is already running in this directory \(pid \d+/,
    },
    {
      name: 'in another directory, on the same port',
      argv: () => ['sandbox', '--port', String(port)],
      dir: () => elsewhere,
      refusal: () => new RegExp(`^airlock: port ${port} on 127\\.0\\.0\\.1 is in use \\(another sandbox or server\\): stop what holds it, or pick another with --port\\n$`),
    },
  ]
  for (const c of cases) {
    it(`${c.name}: one line, exit 1, the first's trail and IRSA token untouched, and it still serves`, async () => {
      const before = { trail: await readFile(first.paths.trail, 'utf8'), token: await fingerprint(first.paths.tokenFile), state: await fingerprint(join(cwd, '.airlock', 'sandbox.json')) }
      const second = await airlock(c.argv(), c.dir())
      assert.equal(second.code, 1, second.stderr)
      assert.equal(second.stdout, '')
      const lines = second.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('starting the sandbox'))
      assert.equal(lines.length, 1, `one line of refusal, got:\n${second.stderr}`)
      assert.match(`${lines[0]}\n`, c.refusal())
      assert.doesNotMatch(second.stderr, /\n\s+at /, 'no stack trace')
      // The trail may still be receiving the previous call's appends: it must only have grown.
      const trail = await readFile(first.paths.trail, 'utf8')
      assert.ok(trail.startsWith(before.trail), 'the first sandbox\'s trail was neither truncated nor rewritten')
      assert.deepEqual({ token: await fingerprint(first.paths.tokenFile), state: await fingerprint(join(cwd, '.airlock', 'sandbox.json')) }, { token: before.token, state: before.state })
      const client = await whoami()
      await client.close()
    })
  }

  it('sandbox --help in the running sandbox\'s directory prints usage and touches nothing', async () => {
    const before = { trail: await readFile(first.paths.trail, 'utf8'), token: await fingerprint(first.paths.tokenFile) }
    const help = await airlock(['sandbox', '--help'], cwd)
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^usage: airlock sandbox /)
    assert.equal(help.stderr, '')
    assert.ok((await readFile(first.paths.trail, 'utf8')).startsWith(before.trail), 'the trail was neither truncated nor rewritten')
    assert.equal(await fingerprint(first.paths.tokenFile), before.token)
  })

  it('a lock left by a process that is gone does not keep a new sandbox out', async () => {
    const stale = await mkdtemp(join(tmpdir(), 'airlock-sandbox-stale-'))
    try {
      const { mkdir, writeFile } = await import('node:fs/promises')
      await mkdir(join(stale, '.airlock'))
      await writeFile(join(stale, '.airlock', 'sandbox.lock'), '999999999\n')
      const { acquireSandboxLock } = await import('../../src/cli/sandbox-lock.js')
      const lock = await acquireSandboxLock(stale, join(stale, '.airlock'))
      assert.equal((await readFile(join(stale, '.airlock', 'sandbox.lock'), 'utf8')).trim(), String(process.pid))
      await lock.release()
      await assert.rejects(stat(join(stale, '.airlock', 'sandbox.lock')), 'released: the lock file is gone')
    } finally {
      await rm(stale, { recursive: true, force: true })
    }
  })
})
