import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { CliIo } from '../../src/cli/cli-io.js'
import { createTokenCommand, tokenCommand } from '../../src/cli/token-command.js'
import { UpstreamError } from '../../src/errors.js'
import { requestClientToken } from '../../src/sandbox/oidc/request-client-token.js'
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
      assert.match(result.out, /^[\w-]+\.[\w-]+\.[\w-]+\n$/)
      const { payload } = await jwtVerify(result.out.trim(), createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience: gatewayUrl })
      assert.equal(payload.sub, user)
      assert.deepEqual(payload.groups, groups)
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 600, 'the default lifetime is 10 minutes')
      assert.equal(result.err, `airlock: ${user}'s token expires at ${new Date((payload.exp ?? 0) * 1000).toISOString().replace('.000Z', 'Z')}\n`)
    }
  })

  for (const [ttl, seconds] of [['1h', 3600], ['30m', 1800], ['90s', 90], ['60', 60]] as const) {
    it(`--ttl ${ttl} asks the IdP for a token that lives ${seconds} s`, async () => {
      const result = await run(['bob', '--ttl', ttl], await sandboxDir('ttl', state))
      assert.equal(result.code, 0, result.err)
      const { payload } = await jwtVerify(result.out.trim(), createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience: gatewayUrl })
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), seconds)
      assert.match(result.err, /^airlock: bob's token expires at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/)
    })
  }

  it('--ttl above the cap (1h) or below 60 s is refused before any request, naming the cap', async () => {
    let requests = 0
    const counting = createTokenCommand({ fetch: (input, init) => ((requests += 1), fetch(input, init)) })
    const cwd = await sandboxDir('ttl-capped', state)
    const cases: [string, RegExp][] = [
      ['2h', /^airlock token: --ttl: at most 1h; .*sign in with OAuth\n/],
      ['3601s', /^airlock token: --ttl: at most 1h/],
      ['61m', /^airlock token: --ttl: at most 1h/],
      ['59s', /^airlock token: --ttl: at least 60s\n/],
      ['1d', /^airlock token: --ttl: expected a duration such as 90s, 30m or 1h\n/],
      ['-5m', /^airlock token: --ttl needs a value\n/],
      ['', /^airlock token: --ttl: expected a duration/],
    ]
    for (const [ttl, expected] of cases) {
      let out = ''
      let err = ''
      const code = await counting(['alice', '--ttl', ttl], { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd, env: {} })
      assert.equal(code, 2, ttl)
      assert.equal(out, '')
      assert.match(err, expected)
    }
    assert.equal(requests, 0, 'a refused --ttl sends nothing to the IdP')
  })

  it('the dev IdP itself refuses a ttl outside 60 s to 1 h with invalid_request', async () => {
    for (const ttlSeconds of [3601, 59]) {
      await assert.rejects(
        requestClientToken({ tokenEndpoint: idp.tokenEndpoint, clientId: 'alice', clientSecret: state.clients[0]?.secret ?? '', resource: gatewayUrl, ttlSeconds }),
        (error: unknown) => error instanceof UpstreamError && error.publicDetail === 'invalid_request',
      )
    }
    const token = await requestClientToken({ tokenEndpoint: idp.tokenEndpoint, clientId: 'alice', clientSecret: state.clients[0]?.secret ?? '', resource: gatewayUrl, ttlSeconds: 3600 })
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience: gatewayUrl })
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 3600)
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
    const cases: [string[], string][] = [
      [[], 'whose token: alice, bob or mallory?'],
      [['eve'], 'no identity "eve" in the sandbox: alice, bob or mallory'],
      [['Alice'], 'no identity "Alice" in the sandbox: alice, bob or mallory'],
      [['alice', 'bob'], 'unexpected argument "bob"'],
      [['alice', '--bogus'], 'unknown option --bogus'],
      [['alice', '--ttl'], '--ttl needs a value'],
      [['__proto__'], 'no identity "__proto__" in the sandbox: alice, bob or mallory'],
    ]
    for (const [argv, problem] of cases) {
      const result = await run(argv, cwd)
      assert.equal(result.code, 2, argv.join(' '))
      assert.equal(result.out, '')
      assert.equal(result.err, `airlock token: ${problem}\nusage: airlock token <alice|bob|carol|mallory> [--ttl <duration>]\n`)
    }
  })
})
