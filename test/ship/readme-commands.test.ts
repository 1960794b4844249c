import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { decodeJwt } from 'jose'
import { z } from 'zod'
import { connectInstructions } from '../../src/cli/sandbox-command.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'

const ROOT = resolve(import.meta.dirname, '..', '..')
const README = join(ROOT, 'README.md')
/** The port the README's URLs name; the live sandbox here runs on a free one instead. */
const README_PORT = '8080'

/** The `sh` fenced blocks of a `## ` section (its `###` subsections included), one command per entry, continuations joined. */
export function sectionCommands(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n## ${heading}\n`)
  assert.ok(start >= 0, `README.md has no "## ${heading}" section`)
  const end = markdown.indexOf('\n## ', start + 1)
  const section = markdown.slice(start, end < 0 ? undefined : end)
  const commands: string[] = []
  for (const block of section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const joined = (block[1] ?? '').replace(/\\\n\s*/g, '')
    commands.push(...joined.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')))
  }
  return commands
}

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs one README line with `sh -c` as written. Stdin stays open until it exits, as at a terminal
 * (mcp-remote-client stops when its stdin ends).
 */
function shell(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`timed out after ${timeoutMs} ms: ${command}\n${stderr}`))
    }, timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      child.stdin.end()
      done({ code, stdout, stderr })
    })
  })
}

describe('every command in the README\'s quickstart and "Connect a client" works as written', { timeout: 300_000 }, () => {
  let markdown: string
  let commands: string[]
  let scratch: string
  let sandbox: Sandbox
  let env: NodeJS.ProcessEnv
  let live: (command: string) => string

  before(async () => {
    markdown = await readFile(README, 'utf8')
    commands = sectionCommands(markdown, 'Quickstart')
    // `npx --no-install airlock` runs dist/: build it from these sources, as `npm install` would.
    await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: ROOT })
    // Inside the checkout (so npx finds its bin), in a directory of its own (so the sandbox's
    // .airlock/ is this test's, whatever else runs in the checkout).
    await mkdir(join(ROOT, '.cache'), { recursive: true })
    scratch = await mkdtemp(join(ROOT, '.cache', 'readme-'))
    sandbox = await startSandbox({ cwd: scratch, port: 0 })
    const port = new URL(sandbox.gatewayUrl).port
    live = (command) => command.replaceAll(`127.0.0.1:${README_PORT}`, `127.0.0.1:${port}`)
    env = { ...process.env, MCP_REMOTE_CONFIG_DIR: join(scratch, 'mcp-remote') }
  })
  after(async () => {
    await sandbox?.close()
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true })
  })

  it('finds the commands, and the README names the sandbox\'s default URL', () => {
    assert.ok(commands.length >= 8, `only ${commands.length} commands found: the extraction is broken`)
    assert.match(markdown, new RegExp(`http://127\\.0\\.0\\.1:${README_PORT}/mcp`))
  })

  it('no command anywhere in the README or the sandbox banner can reach the registry\'s unrelated "airlock" package', () => {
    const banner = connectInstructions(sandbox, scratch)
    for (const [where, text] of [['README.md', markdown], ['the sandbox banner', banner]] as const) {
      assert.deepEqual([...text.matchAll(/npx\s+airlock\b[^\n]*/g)].map((m) => m[0]), [], `${where}: npx airlock without --no-install`)
    }
    for (const command of commands.filter((c) => /\bnpx\b/.test(c))) {
      for (const use of command.matchAll(/\bnpx\s+(\S+)/g)) assert.equal(use[1], '--no-install', `every npx in a README command refuses downloads: ${command}`)
    }
  })

  it('outside a checkout, npx --no-install airlock fails instead of fetching a package', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'airlock-outside-'))
    try {
      const ran = await shell('npx --no-install airlock --version', outside, env, 60_000)
      assert.notEqual(ran.code, 0, 'it must not run anything')
      assert.match(ran.stderr, /could not determine executable to run/)
      assert.doesNotMatch(ran.stdout, /airlock \d/)
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })

  it('runs each command in order (shape-checking the three that cannot run here)', async (t) => {
    const pkg = z.object({ scripts: z.record(z.string(), z.string()) }).parse(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')))
    const seen = new Set<string>()
    for (const written of commands) {
      const command = live(written)
      await t.test(written, async () => {
        if (written === 'npm install') {
          // Not run: it would rewrite the dependencies this checkout shares. Its `prepare` builds dist/.
          assert.match(pkg.scripts['prepare'] ?? '', /npm run build/)
          assert.ok(existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')), 'the build npm install runs produced dist/')
          seen.add('install')
          return
        }
        if (/^npm start\b/.test(written)) {
          // The live sandbox of this test is what `npm start` runs, on a free port in a scratch directory.
          assert.equal(pkg.scripts['start'], 'tsx src/cli/main.ts sandbox')
          seen.add('start')
          return
        }
        if (/^npm test\b/.test(written)) {
          // Not run: this test is part of it.
          assert.match(pkg.scripts['test'] ?? '', /typecheck/)
          seen.add('test')
          return
        }
        if (/^claude mcp add\b/.test(written)) {
          // Shape only: Claude Code is not installed here, and its OAuth sign-in opens a browser.
          const argv = command.split(/\s+/)
          assert.deepEqual(argv, ['claude', 'mcp', 'add', '--transport', 'http', 'airlock', sandbox.gatewayUrl])
          const challenge = await fetch(sandbox.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
          assert.equal(challenge.status, 401)
          assert.match(challenge.headers.get('www-authenticate') ?? '', /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource/)
          seen.add('claude')
          return
        }
        if (/^npx --no-install mcp-remote\s/.test(written)) {
          // A stdio bridge: the SDK's stdio client drives it through the same shell line.
          const client = new Client({ name: 'readme-bridge', version: '1.0.0' })
          await client.connect(new StdioClientTransport({ command: 'sh', args: ['-c', command], cwd: scratch, env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)), stderr: 'ignore' }))
          try {
            const names = (await client.listTools()).tools.map((tool) => tool.name)
            assert.ok(names.includes('ssm_run') && names.includes('kubectl'), `bob's tools through the bridge: ${names.join(', ')}`)
            const me = await client.callTool({ name: 'whoami', arguments: {} })
            assert.match(JSON.stringify(me.content), /bob/)
            // A call that reaches the emulated AWS, so the trail below has something to show.
            const pods = await client.callTool({ name: 'kubectl', arguments: { connection: 'demo-cluster', verb: 'list', resource: 'pods', namespace: 'shop' } })
            assert.equal(pods.isError, undefined, JSON.stringify(pods.content))
          } finally {
            await client.close()
          }
          seen.add('bridge')
          return
        }
        const ran = await shell(command, scratch, env)
        assert.equal(ran.code, 0, `exit ${ran.code}\n${ran.stderr}`)
        if (/^npx --no-install mcp-remote-client /.test(written)) {
          for (const tool of ['whoami', 'list_connections', 'sql_query']) assert.match(ran.stderr, new RegExp(`"name": "${tool}"`), `alice's tools listed: ${tool}`)
          assert.match(ran.stderr, /Exiting OK/)
          seen.add('client')
        } else if (/^npx --no-install airlock token /.test(written)) {
          const claims = decodeJwt(ran.stdout.trim())
          assert.equal(claims.sub, /token (\w+)/.exec(written)?.[1])
          assert.equal(claims.aud, sandbox.gatewayUrl)
          const ttl = /--ttl 1h/.test(written) ? 3600 : 600
          assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), ttl)
          assert.match(ran.stderr, /token expires at \d{4}-/)
          seen.add('token')
        } else if (/airlock sandbox trail$/.test(written)) {
          assert.match(ran.stdout, /sts:AssumeRoleWithWebIdentity {2}ok/)
          assert.match(ran.stdout, /eks:DescribeCluster {2}ok/)
          seen.add('trail')
        } else if (/airlock audit verify /.test(written)) {
          assert.match(ran.stdout, /^OK: \d+ records, chain intact/)
          seen.add('audit')
        }
      })
    }
    // The README may change, but these kinds of command must stay in it and be checked.
    assert.deepEqual([...seen].sort(), ['audit', 'bridge', 'claude', 'client', 'install', 'start', 'test', 'token', 'trail'])
  })
})
