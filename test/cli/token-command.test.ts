import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { CliIo } from '../../src/cli/cli-io.js'
import { tokenCommand } from '../../src/cli/token-command.js'
import { startDevIdp } from '../../src/sandbox/oidc/start-dev-idp.js'
import type { DevIdp } from '../../src/sandbox/oidc/start-dev-idp.js'
import { writeSandboxState } from '../../src/sandbox/sandbox-state.js'
import type { SandboxState } from '../../src/sandbox/sandbox-state.js'

const gatewayUrl = 'http://127.0.0.1:8080/mcp'
let idp: DevIdp
let root: string
let state: SandboxState

before(async () => {
  idp = await startDevIdp({ audience: gatewayUrl })
  root = await mkdtemp(join(tmpdir(), 'airlock-token-'))
  state = {
    issuer: idp.issuer,
    tokenEndpoint: idp.tokenEndpoint,
    gatewayUrl,
    clients: idp.clients.map((c) => ({ id: c.id, secret: c.secret })),
    pid: process.pid,
    startedAt: '2026-01-01T00:00:00.000Z',
  }
})
after(async () => {
  await idp.close()
  await rm(root, { recursive: true, force: true })
})

async function sandboxDir(name: string, contents?: SandboxState | string): Promise<string> {
  const cwd = join(root, name)
  await mkdir(cwd, { recursive: true })
  if (typeof contents === 'string') {
    await mkdir(join(cwd, '.airlock'))
    await writeFile(join(cwd, '.airlock', 'sandbox.json'), contents)
  } else if (contents !== undefined) {
    await writeSandboxState(cwd, contents)
  }
  return cwd
}

async function run(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd, env: {} }
  return { code: await tokenCommand(argv, io), out, err }
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(child, 'exit')
  assert.ok(child.pid !== undefined, 'expected: child.pid !== undefined')
  return child.pid
}

describe('airlock token', () => {
  it('prints only a fresh access token for the named identity', async () => {
    const cwd = await sandboxDir('ok', state)
    for (const [user, groups] of [['alice', ['dba']], ['bob', ['sre']], ['mallory', []]] as const) {
      const result = await run([user], cwd)
      assert.equal(result.code, 0)
      assert.equal(result.err, '')
      assert.match(result.out, /^[\w-]+\.[\w-]+\.[\w-]+\n$/)
      const { payload } = await jwtVerify(result.out.trim(), createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience: gatewayUrl })
      assert.equal(payload.sub, user)
      assert.deepEqual(payload.groups, groups)
    }
  })

  const notRunning = 'no sandbox running here: start it with npm start\n'

  it('says no sandbox runs here when there is no state file', async () => {
    assert.deepEqual(await run(['alice'], await sandboxDir('none')), { code: 1, out: '', err: notRunning })
  })

  it('says no sandbox runs here when the recorded process is gone', async () => {
    const cwd = await sandboxDir('dead', { ...state, pid: await deadPid() })
    assert.deepEqual(await run(['alice'], cwd), { code: 1, out: '', err: notRunning })
  })

  it('says no sandbox runs here when its identity provider does not answer', async () => {
    const gone = await startDevIdp({ audience: gatewayUrl })
    await gone.close()
    const cwd = await sandboxDir('stale', { ...state, issuer: gone.issuer, tokenEndpoint: gone.tokenEndpoint })
    assert.deepEqual(await run(['alice'], cwd), { code: 1, out: '', err: notRunning })
  })

  it('reports a refused request without echoing the secret', async () => {
    const cwd = await sandboxDir('wrong-secret', { ...state, clients: [{ id: 'alice', secret: 'not-the-secret' }] })
    const result = await run(['alice'], cwd)
    assert.equal(result.code, 1)
    assert.equal(result.out, '')
    assert.equal(result.err, 'the sandbox identity provider refused the token request (invalid_client)\n')
    const missing = await run(['bob'], cwd)
    assert.deepEqual(missing, { code: 1, out: '', err: 'the running sandbox has no client for bob\n' })
  })

  it('names the state file and field when it is invalid', async () => {
    const offMachine = JSON.stringify({ ...state, tokenEndpoint: 'http://example.com/token' })
    const result = await run(['alice'], await sandboxDir('remote', offMachine))
    assert.equal(result.code, 1)
    assert.match(result.err, /^\.airlock\/sandbox\.json: tokenEndpoint: must be a loopback URL\n$/)
    const garbage = await run(['alice'], await sandboxDir('garbage', '{'))
    assert.deepEqual(garbage, { code: 1, out: '', err: '.airlock/sandbox.json: not JSON\n' })
  })

  it('exits 2 for an unknown identity or bad arguments', async () => {
    const cwd = await sandboxDir('usage', state)
    for (const argv of [[], ['eve'], ['Alice'], ['alice', 'bob'], ['--help'], ['__proto__']]) {
      const result = await run(argv, cwd)
      assert.equal(result.code, 2, argv.join(' '))
      assert.equal(result.out, '')
      assert.equal(result.err, 'usage: airlock token <alice|bob|carol|mallory>\n')
    }
  })
})
