import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { CliIo } from '../../src/cli/cli-io.js'
import { loadGatewayConfig } from '../../src/cli/load-config.js'
import { runCli } from '../../src/cli/run-cli.js'
import { createServeCommand } from '../../src/cli/serve-command.js'
import { SHUTDOWN_CANCEL_GRACE_MS, startGateway, type RunningGateway } from '../../src/cli/start-gateway.js'
import { ConfigError, UpstreamError } from '../../src/errors.js'
import { startTestIssuer, type TestIssuer } from '../support/test-issuer.js'

function capture(cwd: string, env: Record<string, string> = {}, shutdown?: AbortSignal): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    cwd,
    env,
    ...(shutdown === undefined ? {} : { shutdown }),
    out: () => out,
    err: () => err,
  }
}

describe('gateway configuration and airlock serve', () => {
  let dir: string
  let issuer: TestIssuer
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-serve-'))
    issuer = await startTestIssuer()
    await writeFile(join(dir, 'policy.json'), JSON.stringify({ version: 1, grants: [{ id: 'g', groups: ['dba'], tools: ['whoami'] }] }))
  })
  after(async () => {
    await issuer.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const config = (extra: Record<string, unknown> = {}) =>
    writeFile(join(dir, 'airlock.json'), JSON.stringify({ issuer: issuer.issuer, listen: { port: 0 }, admin: { port: 0 }, policy: ['policy.json'], audit: { path: 'audit.jsonl' }, ...extra }))

  it('resolves paths against the config file and applies AIRLOCK_* overrides', async () => {
    await config()
    const loaded = await loadGatewayConfig('airlock.json', { AIRLOCK_PUBLIC_URL: 'https://airlock.example.com', AIRLOCK_ALLOWED_ORIGINS: 'https://a.example, https://b.example' }, dir)
    assert.deepEqual(loaded.policy, [join(dir, 'policy.json')])
    assert.ok(loaded.audit.sink === 'file', 'an audit section without a sink is a file sink')
    assert.equal(loaded.audit.path, join(dir, 'audit.jsonl'))
    assert.equal(loaded.audit.durability, 'fsync')
    assert.equal(loaded.publicUrl, 'https://airlock.example.com')
    assert.deepEqual(loaded.allowedOrigins, ['https://a.example', 'https://b.example'])
    assert.deepEqual(loaded.algorithms.some((a) => a.startsWith('HS')), false)
  })

  it('refuses a bad config with one line per problem naming the key or the variable', async () => {
    await config({ clockToleranceSeconds: 600, algorithms: ['HS256'], typo: true })
    await assert.rejects(loadGatewayConfig('airlock.json', { AIRLOCK_LISTEN_PORT: 'eighty' }, dir), (error: unknown) => {
      assert.ok(error instanceof ConfigError, 'expected: error instanceof ConfigError')
      const lines = error.message.split('\n')
      assert.ok(lines.some((l) => l.startsWith('airlock.json: clockToleranceSeconds:')), error.message)
      assert.ok(lines.some((l) => l.startsWith('airlock.json: algorithms[0]:') && l.includes('HS* and none are never allowed')), error.message)
      assert.ok(lines.some((l) => l.includes('typo')), error.message)
      assert.ok(lines.some((l) => l.startsWith('AIRLOCK_LISTEN_PORT (environment): listen.port:')), error.message)
      return true
    })
    // A variable for a key this gateway does not have is named, with the key it sets, never its value.
    await config({ typo: true })
    await assert.rejects(loadGatewayConfig('airlock.json', { AIRLOCK_ADMIN_PORT: '9999', AIRLOCK_AUDIT_URL: 'postgres://airlock:pw-123@db/audit' }, dir), (error: unknown) => {
      assert.ok(error instanceof ConfigError, 'expected: error instanceof ConfigError')
      assert.deepEqual(error.message.split('\n'), ['AIRLOCK_AUDIT_URL (environment): audit.url: not a setting of this gateway', 'airlock.json: (root): Unrecognized key: "typo"'])
      return true
    })
    const admin = await config().then(() => loadGatewayConfig('airlock.json', { AIRLOCK_ADMIN_HOST: '0.0.0.0', AIRLOCK_ADMIN_PORT: '9999' }, dir))
    assert.deepEqual(admin.admin, { enabled: true, host: '0.0.0.0', port: 9999 })
    await writeFile(join(dir, 'broken.json'), '{ "issuer": ')
    await assert.rejects(loadGatewayConfig('broken.json', {}, dir), /broken\.json: not valid JSON/)
  })

  const serve = createServeCommand({ aws: () => ({ credentials: async () => { throw new UpstreamError('AWS_CREDENTIALS', 'none in this test') } }) })

  it('exits 2 without a config, 1 with one clear line for a bad one', async () => {
    const io = capture(dir)
    assert.equal(await serve([], io), 2)
    assert.match(io.err(), /usage: airlock serve --config <file>/)
    await config({ issuer: 'not a url' })
    const bad = capture(dir)
    assert.equal(await serve(['--config', 'airlock.json'], bad), 1)
    assert.match(bad.err(), /^airlock: airlock\.json: issuer: /m)
  })

  it('runs until shutdown and answers on its MCP endpoint meanwhile', async () => {
    await config()
    const shutdown = new AbortController()
    const io = capture(dir, {}, shutdown.signal)
    const running = serve(['--config', 'airlock.json'], io)
    let url: string | undefined
    for (let i = 0; i < 100 && url === undefined; i++) {
      url = /"mcp":"([^"]+)"/.exec(io.err())?.[1]
      if (url === undefined) await new Promise((r) => setTimeout(r, 50))
    }
    assert.ok(url !== undefined, io.err())
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    assert.equal(response.status, 401)
    shutdown.abort()
    assert.equal(await running, 0)
  })

  it('ends the process with exit code 1 when shutdown overruns the drain plus a few seconds', { timeout: 15_000 }, async () => {
    await config({ shutdown: { drainSeconds: 0 } })
    let real: RunningGateway | undefined
    // The real gateway, but its shutdown never finishes (as with an audit disk that stopped answering).
    const stuck = createServeCommand({
      aws: () => ({ credentials: async () => { throw new UpstreamError('AWS_CREDENTIALS', 'none in this test') } }),
      start: async (options) => {
        real = await startGateway(options)
        return { ...real, close: () => new Promise<void>(() => undefined) }
      },
    })
    const shutdown = new AbortController()
    let exitedWith: number | undefined
    let exitedAt = 0
    let signalledAt = 0
    const exited = new Promise<void>((resolve) => {
      const io = {
        ...capture(dir, {}, shutdown.signal),
        exit: (code: number) => {
          exitedWith = code
          exitedAt = performance.now()
          resolve()
        },
      }
      void stuck(['--config', 'airlock.json'], io)
      void (async () => {
        while (!io.err().includes('airlock is listening')) await new Promise((r) => setTimeout(r, 20))
        signalledAt = performance.now()
        shutdown.abort()
      })()
    })
    await exited
    await real?.close()
    assert.equal(exitedWith, 1)
    const afterMs = exitedAt - signalledAt
    // drainSeconds 0 + the cancel grace + the exit margin.
    assert.ok(afterMs >= SHUTDOWN_CANCEL_GRACE_MS + 1900 && afterMs <= SHUTDOWN_CANCEL_GRACE_MS + 3000, `forced exit ${Math.round(afterMs)} ms after the signal`)
  })

  it('dispatches commands and explains usage', async () => {
    const help = capture(dir)
    assert.equal(await runCli(['--help'], help), 0)
    assert.match(help.out(), /airlock <command>/)
    const unknown = capture(dir)
    assert.equal(await runCli(['frobnicate'], unknown), 2)
    assert.match(unknown.err(), /unknown command "frobnicate"/)
    const none = capture(dir)
    assert.equal(await runCli([], none), 2)
  })

  it('sandbox: usage errors exit 2, and the trail needs a running sandbox', async () => {
    const bad = capture(dir)
    assert.equal(await runCli(['sandbox', '--port', 'x'], bad), 2)
    const trail = capture(dir)
    assert.equal(await runCli(['sandbox', 'trail'], trail), 1)
    assert.match(trail.err(), /no sandbox trail here/)
  })
})
