import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { z } from 'zod'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '..', '..')
const NPM_QUIET = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error']

/** The compiler, the TypeScript runner and everything only the sandbox needs. */
const DEV_ONLY_PACKAGES = ['typescript', 'tsx', 'esbuild', 'oidc-provider', '@electric-sql/pglite', 'mysql2', '@peculiar/x509', '@modelcontextprotocol/sdk']

/** Names of every package under node_modules, nested ones included. */
async function installedPackages(nodeModules: string): Promise<Set<string>> {
  const names = new Set<string>()
  const walk = async (dir: string): Promise<void> => {
    if (!existsSync(dir)) return
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue
      if (entry.name.startsWith('@')) {
        for (const scoped of await readdir(join(dir, entry.name), { withFileTypes: true })) {
          if (!scoped.isDirectory()) continue
          names.add(`${entry.name}/${scoped.name}`)
          await walk(join(dir, entry.name, scoped.name, 'node_modules'))
        }
      } else {
        names.add(entry.name)
        await walk(join(dir, entry.name, 'node_modules'))
      }
    }
  }
  await walk(nodeModules)
  return names
}

// npm pack builds dist/ first (the prepare script), so this packs what the sources say today.
describe('the packed gateway, installed for production', { timeout: 240_000 }, () => {
  let dir: string
  let app: string
  let bin: string
  let sandbox: Sandbox | undefined
  const gatewayLog: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-pack-'))
    const packed = z.array(z.object({ filename: z.string() })).parse(JSON.parse((await run('npm', ['pack', '--json', '--pack-destination', dir, ...NPM_QUIET], { cwd: ROOT })).stdout))
    const tarball = join(dir, packed[0]?.filename ?? 'missing.tgz')
    app = join(dir, 'app')
    await mkdir(app)
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'airlock-install-check', version: '1.0.0', private: true }))
    await run('npm', ['install', '--omit=dev', ...NPM_QUIET, tarball], { cwd: app })
    bin = join(app, 'node_modules', '.bin', 'airlock')
  })
  after(async () => {
    await sandbox?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('holds no compiler and none of the sandbox dependencies', async () => {
    const names = await installedPackages(join(app, 'node_modules'))
    for (const name of ['airlock', 'jose', 'zod', '@modelcontextprotocol/server', '@modelcontextprotocol/node', 'sh-syntax']) assert.ok(names.has(name), `${name} is not installed: the walk is broken`)
    assert.deepEqual(DEV_ONLY_PACKAGES.filter((name) => names.has(name)), [])
    assert.ok(![...names].some((name) => name.startsWith('@esbuild/')), 'no esbuild binary')
  })

  it('ships the compiled CLI, the policy schema and examples, and neither sources nor the sandbox', async () => {
    const pkg = join(app, 'node_modules', 'airlock')
    for (const file of ['bin/airlock.js', 'dist/src/cli/main.js', 'dist/src/cli/main.d.ts', 'dist/src/cli/main.js.map', 'policies/policy.schema.json', 'policies/examples/okta-groups.json']) {
      assert.ok(existsSync(join(pkg, file)), file)
    }
    for (const file of ['src', 'test', 'tools', 'dist/src/sandbox', 'dist/src/cli/start-sandbox.js', 'dist/src/cli/token-command.js', 'dist/.tsbuildinfo']) {
      assert.ok(!existsSync(join(pkg, file)), file)
    }
  })

  it('refuses the sandbox and token commands with one line and exit 1', async () => {
    const refusal = (command: readonly string[]) =>
      run(bin, command, { cwd: app }).then(
        () => assert.fail(`${command[0]} succeeded in a production install`),
        (error: unknown) => z.object({ code: z.number(), stderr: z.string() }).parse(error),
      )
    const [sandboxResult, tokenResult] = await Promise.all([refusal(['sandbox']), refusal(['token', 'alice'])])
    for (const [name, result] of [['sandbox', sandboxResult], ['token', tokenResult]] as const) {
      assert.equal(result.code, 1)
      assert.equal(result.stderr, `airlock: \`${name}\` needs a full install (a checkout and \`npm install\`); a production install leaves out the sandbox\n`)
    }
  })

  it('runs airlock serve against the sandbox IdP and emulators: a tools/call reaches the RDS Data API', async () => {
    const cwd = join(dir, 'sandbox')
    await mkdir(cwd)
    sandbox = await startSandbox({ cwd, port: 0, gatewayCli: { argv: [bin], cwd: app }, onGatewayLog: (line) => gatewayLog.push(line) })
    assert.ok(gatewayLog.some((line) => line.includes('airlock is listening')), gatewayLog.join('\n'))
    const client = new Client({ name: 'pack-install', version: '1.0.0' })
    const token = await sandbox.idp.mintToken('alice')
    await client.connect(new StreamableHTTPClientTransport(new URL(sandbox.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
    try {
      const result = await client.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'SELECT id, email FROM customers ORDER BY id LIMIT 2' } })
      assert.equal(result.isError, undefined, JSON.stringify(result.content))
      const rows = z.object({ rowCount: z.number() }).parse(result.structuredContent)
      assert.equal(rows.rowCount, 2)
    } finally {
      await client.close()
    }
    assert.ok(sandbox.trail.entries().some((e) => e.service === 'rds-data' && e.action === 'ExecuteStatement' && e.outcome === 'ok'), 'expected: sandbox.trail.entries().some((e) => e.service === \'rds-data\' && e.action === \'ExecuteStatement\' &...')
    assert.match(await readFile(sandbox.paths.audit, 'utf8'), /"tool":"sql_query"/)
  })

  it('checks the shipped policies and verifies the audit trail it wrote with the installed CLI', async () => {
    assert.ok(sandbox !== undefined, 'the serve test ran first')
    const [policies, audit] = await Promise.all([
      run(bin, ['policy', 'check', join(app, 'node_modules', 'airlock', 'policies', 'examples')], { cwd: app }),
      run(bin, ['audit', 'verify', sandbox.paths.audit], { cwd: app }),
    ])
    assert.match(policies.stdout, /^OK: 3 files/)
    assert.match(audit.stdout, /^OK: \d+ records, chain intact/)
  })
})
