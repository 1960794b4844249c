import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { startTestIssuer, type TestIssuer } from '../support/test-issuer.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface Run {
  readonly child: ChildProcess
  readonly stderr: () => string
  /** The exit code, or 'running' if the process has not exited within `ms`. */
  exited(ms: number): Promise<number | null | 'running'>
}

/** The real CLI, as an operator starts it: `node --import tsx src/cli/main.ts serve --config …`. */
function serve(config: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', config], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child,
    stderr: () => err,
    exited: (ms) => Promise.race([exit, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), ms).unref())]),
  }
}

describe('airlock serve and a FIFO at the audit path', () => {
  let dir: string
  let config: string
  let issuer: TestIssuer
  const children: ChildProcess[] = []
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-audit-fifo-'))
    issuer = await startTestIssuer()
    config = join(dir, 'airlock.json')
    await writeFile(join(dir, 'policy.json'), JSON.stringify({ version: 1, grants: [{ id: 'g', groups: ['dba'], tools: ['whoami'] }] }))
    await writeFile(config, JSON.stringify({ issuer: issuer.issuer, listen: { host: '127.0.0.1', port: 0 }, admin: { port: 0 }, policy: ['policy.json'], audit: { path: 'audit.jsonl', durability: 'write' } }))
  })
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await issuer.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const start = (): Run => {
    const run = serve(config)
    children.push(run.child)
    return run
  }

  it('refuses to start with one clear line and exits promptly instead of hanging in open()', { timeout: 30_000 }, async () => {
    execFileSync('mkfifo', [join(dir, 'audit.jsonl')])
    const run = start()
    let code = await run.exited(15_000)
    // Should it still be running, SIGTERM must stop it (a process stuck opening a FIFO ignores it).
    if (code === 'running') {
      run.child.kill('SIGTERM')
      code = await run.exited(5_000)
    }
    assert.equal(code, 1, run.stderr())
    assert.match(run.stderr(), /^airlock: audit log \S*audit\.jsonl: is a FIFO \(named pipe\), not a regular file; audit\.path must name a regular file$/m)
    await unlink(join(dir, 'audit.jsonl'))
  })

  it('SIGTERM stops a running gateway whose audit file was replaced by a FIFO', { timeout: 30_000 }, async () => {
    const run = start()
    let url: string | undefined
    for (let i = 0; i < 300 && url === undefined; i++) {
      url = /"mcp":"([^"]+)"/.exec(run.stderr())?.[1]
      if (url === undefined) await new Promise((r) => setTimeout(r, 50))
    }
    assert.ok(url !== undefined, run.stderr())
    await unlink(join(dir, 'audit.jsonl'))
    execFileSync('mkfifo', [join(dir, 'audit.jsonl')])
    // An unauthenticated request is audited (auth.failure): that write meets the FIFO.
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    assert.equal(response.status, 401)
    run.child.kill('SIGTERM')
    assert.equal(await run.exited(10_000), 0, run.stderr())
    assert.match(run.stderr(), /audit write failed/)
    await unlink(join(dir, 'audit.jsonl'))
  })
})
