import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createServer } from 'node:http'
import { createServer as createNetServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import type { CliIo } from '../../src/cli/cli-io.js'
import { createVerifyCommand } from '../../src/cli/verify-command.js'
import { systemClock } from '../../src/clock.js'
import { startFixtureGateway, type FixtureGateway } from '../posture/fixture-gateway.js'
import { createTeardown } from '../support/teardown.js'

interface Captured extends CliIo {
  readonly out: string[]
  readonly err: string[]
}
const capture = (cwd: string, env: Record<string, string | undefined>): Captured => {
  const out: string[] = []
  const err: string[] = []
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd, env }
}
const verify = createVerifyCommand({ clock: systemClock })

const CLUSTER = 'arn:aws:rds:eu-west-1:111122223333:cluster:orders'
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-rw'
const POLICY = {
  version: 1,
  connections: {
    orders: { kind: 'rds-data', region: 'eu-west-1', engine: 'postgres', database: 'orders', resourceArn: CLUSTER, secretArn: SECRET },
  },
  grants: [{ id: 'read', groups: ['dba'], connections: ['orders'], tools: ['sql_query'] }],
}

describe('airlock verify', () => {
  let home: string
  let project: string
  let good: FixtureGateway
  let bad: FixtureGateway
  const teardown = createTeardown()
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-verify-cmd-'))
    teardown.add(() => rm(home, { recursive: true, force: true }))
    project = join(home, 'project')
    await mkdir(project)
    await writeFile(join(project, 'policy.json'), JSON.stringify(POLICY))
    good = await startFixtureGateway()
    teardown.add(() => good.close())
    bad = await startFixtureGateway({ anyAudience: true, noResourceMetadata: true })
    teardown.add(() => bad.close())
  })
  after(() => teardown.run())

  it('--agent-env passes a clean HOME from io.env', async () => {
    const io = capture(project, { HOME: join(home, 'clean-home') })
    assert.equal(await verify(['--agent-env'], io), 0, io.out.join(''))
    assert.match(io.out.join(''), /^PASS  agent-env  no AWS key material/m)
  })

  it('--agent-env fails on a planted key, naming where and masking it', async () => {
    const dirty = join(home, 'dirty-home')
    await mkdir(join(dirty, '.aws'), { recursive: true })
    await writeFile(join(dirty, '.aws', 'credentials'), '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n')
    const io = capture(project, { HOME: dirty })
    assert.equal(await verify(['--agent-env'], io), 1)
    const text = io.out.join('')
    assert.match(text, /^FAIL  agent-env\.file  access key id \(AKIA…MPLE\)  \[~\/\.aws\/credentials:2\]$/m)
    assert.doesNotMatch(text, /AKIAIOSFODNN7EXAMPLE/)
    assert.match(text, /verify: 0 passed, 1 failed, 0 warnings/)
  })

  it('--agent-env reads the environment from io.env, not the process', async () => {
    const io = capture(project, { HOME: join(home, 'clean-home'), AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLEabcdefgh' })
    assert.equal(await verify(['--agent-env', '--json'], io), 1)
    const report = JSON.parse(io.out.join('')) as { ok: boolean; checks: { id: string; status: string; summary: string }[] }
    assert.equal(report.ok, false)
    assert.deepEqual(report.checks.map((c) => [c.id, c.status, c.summary]), [['agent-env.variable', 'FAIL', 'AWS_SESSION_TOKEN is set (…efgh)']])
  })

  it('--gateway passes a correct server with valid, expired and wrong-audience tokens (tokens from files too)', async () => {
    await writeFile(join(project, 'token'), `${await good.mint()}\n`)
    const io = capture(project, {})
    const code = await verify(
      ['--gateway', good.mcpUrl, '--token', '@token', '--expired-token', await good.mint({ expiresInSeconds: -60 }), '--wrong-audience-token', await good.mint({ aud: 'https://x.example/mcp' }), '--json'],
      io,
    )
    const report = JSON.parse(io.out.join('')) as { ok: boolean; checks: { id: string; status: string }[] }
    assert.equal(code, 0, JSON.stringify(report.checks.filter((c) => c.status === 'FAIL')))
    assert.equal(report.ok, true)
    assert.equal(report.checks.length, 15)
    // The token-profile probes this server cannot confirm (bare refusals, no signing key) warn and do not fail the run.
    assert.deepEqual(report.checks.filter((c) => c.status !== 'PASS').map((c) => c.id), [
      'gateway.token-type',
      'gateway.alg-substitution',
      'gateway.token-lifetime',
      'gateway.client-pinning',
      'gateway.required-claims',
    ])
  })

  it('--signing-key (a private JWK, or @file) signs the profile probes with a key the server trusts', async () => {
    await writeFile(join(project, 'signing-key.json'), JSON.stringify(good.privateJwk))
    for (const key of ['@signing-key.json', JSON.stringify(good.privateJwk)]) {
      const io = capture(project, {})
      const code = await verify(['--gateway', good.mcpUrl, '--token', await good.mint(), '--signing-key', key], io)
      const text = io.out.join('')
      assert.equal(code, 1, text)
      assert.match(text, /^PASS  gateway\.signing-key +a conforming token signed with --signing-key is accepted/m)
      // The fixture server checks neither typ nor lifetime.
      assert.match(text, /^FAIL  gateway\.token-type +tokens typed secevent\+jwt, logout\+jwt, dpop\+jwt: accepted \(HTTP 200\)/m)
      assert.match(text, /^FAIL  gateway\.token-lifetime /m)
      assert.doesNotMatch(text, new RegExp(String(good.privateJwk.d)))
    }
  })

  it('--gateway fails a misconfigured server', async () => {
    const io = capture(project, {})
    const code = await verify(['--gateway', bad.mcpUrl, '--wrong-audience-token', await bad.mint({ aud: 'https://x.example/mcp' })], io)
    assert.equal(code, 1)
    const text = io.out.join('')
    assert.match(text, /^FAIL  gateway\.resource-metadata /m)
    assert.match(text, /^FAIL  gateway\.wrong-audience +token for another audience: expected 401, got 200/m)
    assert.match(text, /^PASS  gateway\.alg-none /m)
  })

  it('--role-policy passes the generated policy and fails a wildcard role', async () => {
    const generated = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['rds-data:BatchExecuteStatement', 'rds-data:BeginTransaction', 'rds-data:CommitTransaction', 'rds-data:ExecuteStatement', 'rds-data:RollbackTransaction'],
          Resource: CLUSTER,
        },
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET },
      ],
    }
    await writeFile(join(project, 'least.json'), JSON.stringify(generated))
    await writeFile(join(project, 'wide.json'), JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['rds-data:*', 'secretsmanager:GetSecretValue'], Resource: '*' }] }))
    const ok = capture(project, {})
    assert.equal(await verify(['--role-policy', 'least.json', '--policy', 'policy.json'], ok), 0, ok.out.join(''))
    const wide = capture(project, { AIRLOCK_POLICY: 'policy.json' })
    assert.equal(await verify(['--role-policy', 'wide.json'], wide), 1)
    assert.match(wide.out.join(''), /FAIL  role-policy\.wildcard-action +wildcard action "rds-data:\*"/)
    assert.match(wide.out.join(''), /FAIL  role-policy\.wildcard-resource/)
    const unreadable = capture(project, {})
    assert.equal(await verify(['--role-policy', 'absent.json', '--policy', 'policy.json'], unreadable), 1)
    assert.match(unreadable.out.join(''), /FAIL  role-policy\.invalid/)
    const badPolicy = capture(project, {})
    assert.equal(await verify(['--role-policy', 'least.json', '--policy', 'missing.json'], badPolicy), 1)
    assert.match(badPolicy.err.join(''), /missing\.json: no such file/)
  })

  describe('--gateway that cannot be reached says what it tried and why', () => {
    const tried = (url: string) => new RegExp(`^FAIL  gateway\\.reachable  POST ${url.replace(/[.?*+]/g, '\\$&')} \\(MCP initialize, no token\\): `)
    const run = async (url: string, timeoutMs = 2000): Promise<string> => {
      const io = capture(project, {})
      assert.equal(await createVerifyCommand({ clock: systemClock, timeoutMs })(['--gateway', url], io), 1)
      assert.equal(io.err.join(''), '')
      const out = io.out.join('')
      assert.match(out, tried(url))
      assert.match(out, /verify: 0 passed, 1 failed/)
      return out
    }

    it('connection refused: nothing listens on the port', async () => {
      const server = createServer()
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
      const { port } = z.object({ port: z.number() }).parse(server.address())
      await new Promise<void>((ok) => server.close(() => ok()))
      const out = await run(`http://127.0.0.1:${port}/mcp`)
      assert.match(out, new RegExp(`connection refused by 127\\.0\\.0\\.1:${port} \\(nothing listens there: is the gateway running\\?\\)`))
    })

    it('DNS: the host does not resolve (.invalid never does, RFC 6761)', async () => {
      const out = await run('http://airlock-gateway.invalid/mcp')
      assert.match(out, /no DNS answer for airlock-gateway\.invalid \((ENOTFOUND|EAI_AGAIN|EAI_NONAME)\)/)
    })

    it('timeout: the server accepts and never answers', async () => {
      const sockets = new Set<Socket>()
      const silent = createNetServer((socket) => sockets.add(socket))
      await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok))
      const { port } = z.object({ port: z.number() }).parse(silent.address())
      try {
        const out = await run(`http://127.0.0.1:${port}/mcp`, 300)
        assert.match(out, /no answer within 300 ms/)
      } finally {
        for (const socket of sockets) socket.destroy()
        await new Promise<void>((ok) => silent.close(() => ok()))
      }
    })
  })

  const USAGE: string[][] = [[], ['--json'], ['--token', 'x', '--agent-env'], ['--gateway', 'ftp://x'], ['--bogus'], ['stray'], ['--agent-env', '--token-file', 'x'], ['--role-policy', 'least.json', '--account', 'abc'], ['--gateway', 'http://127.0.0.1:9/mcp', '--token', '@absent'],
    ['--gateway', 'http://127.0.0.1:9/mcp', '--signing-key', '{"kty":"RSA","kid":"k","d":"x","n":"y","e":"AQAB"}'],
    ['--signing-key', '{"kty":"RSA","kid":"k","d":"x"}', '--token', 'x'],
    ['--gateway', 'http://127.0.0.1:9/mcp', '--token', 'x', '--signing-key', '{"kty":"RSA","kid":"k","n":"y","e":"AQAB"}'],
    ['--gateway', 'http://127.0.0.1:9/mcp', '--token', 'x', '--signing-key', '{"kty":"RSA","d":"x"}'],
    ['--gateway', 'http://127.0.0.1:9/mcp', '--token', 'x', '--signing-key', '{"kty":"oct","kid":"k","k":"c2VjcmV0"}'],
    ['--gateway', 'http://127.0.0.1:9/mcp', '--token', 'x', '--signing-key', 'not json'],
    ['--gateway', 'http://127.0.0.1:9/mcp', '--token', 'x', '--signing-key', '@absent.json']]
  for (const argv of USAGE) {
    it(`exits 2 on usage error: ${argv.join(' ') || '(none)'}`, async () => {
      const io = capture(project, {})
      assert.equal(await verify(argv, io), 2)
      assert.match(io.err.join(''), /^airlock verify: .+\nusage: airlock verify/)
    })
  }
})
