import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { after, before, describe, it, mock } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeJwt } from 'jose'
import { z } from 'zod'
import { runCli } from '../../src/cli/run-cli.js'
import { SANDBOX } from '../../src/cli/sandbox-topology.js'
import { startSandbox, type Sandbox } from '../../src/cli/start-sandbox.js'

// `airlock verify --gateway` and `airlock iam-policy` against the running sandbox, with tokens
// from the sandbox's own IdP: a fresh one, one it issued while its clock read 20 minutes ago,
// and an ID token it issued to another client (so for another audience).
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const REDIRECT_URI = 'http://localhost:6274/oauth/callback'

const planSchema = z.object({
  gatewayRole: z.object({ policy: z.object({ Statement: z.array(z.object({ Sid: z.string(), Action: z.array(z.string()), Resource: z.array(z.string()) })) }) }),
  connectionRoles: z.array(
    z.object({ roleArn: z.string(), connections: z.array(z.string()), policy: z.object({ Statement: z.array(z.object({ Sid: z.string(), Action: z.array(z.string()), Resource: z.array(z.string()) })) }) }),
  ),
})

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await runCli(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: REPO_ROOT, env: {} })
  return { code, out, err }
}

/** Signs in as `user` through the IdP's login page (authorization code + PKCE) and returns the ID token. */
async function idTokenFor(sandbox: Sandbox, user: string): Promise<string> {
  const issuer = sandbox.idp.issuer
  const jar = new Map<string, string>()
  const browse = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const response = await fetch(new URL(url, issuer), { ...init, redirect: 'manual', headers: { ...(cookie === '' ? {} : { cookie }), ...init.headers } })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      jar.set(pair.slice(0, eq), pair.slice(eq + 1))
    }
    return response
  }
  const follow = async (first: Response): Promise<Response | URL> => {
    let response = first
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get('location')
      if (location === null) return response
      const next = new URL(location, issuer)
      if (next.origin !== issuer) return next
      response = await browse(next.href)
    }
    throw new Error('too many redirects')
  }
  const registered = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], client_name: 'another app' }),
  })
  const { client_id: clientId } = z.object({ client_id: z.string() }).parse(await registered.json())
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const params = new URLSearchParams({ client_id: clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', resource: sandbox.gatewayUrl, state: 's', code_challenge: challenge, code_challenge_method: 'S256' })
  const page = await follow(await browse(`/auth?${params}`))
  assert.ok(page instanceof Response, 'expected: page instanceof Response')
  const action = /action="([^"]+)"/.exec(await page.text())?.[1]
  assert.ok(action !== undefined, 'the login page has a form')
  const callback = await follow(await browse(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=${user}` }))
  assert.ok(callback instanceof URL, 'expected: callback instanceof URL')
  const code = callback.searchParams.get('code')
  assert.ok(code !== null, 'expected: code !== null')
  const response = await fetch(sandbox.idp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_id: clientId, resource: sandbox.gatewayUrl }),
  })
  return z.object({ id_token: z.string() }).parse(await response.json()).id_token
}

describe('airlock verify and iam-policy against the running sandbox', () => {
  let cwd: string
  let sandbox: Sandbox
  const tokens = { valid: '', expired: '', wrongAudience: '' }

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'airlock-verify-sandbox-'))
    sandbox = await startSandbox({ cwd, port: 0 })
    tokens.valid = await sandbox.idp.mintToken('bob')
    // The IdP runs in this process and reads the system clock itself: set it 20 minutes back for one
    // issuance. The gateway (a child process) keeps the real time, so the token is long expired there.
    mock.timers.enable({ apis: ['Date'], now: Date.now() - 20 * 60_000 })
    try {
      tokens.expired = await sandbox.idp.mintToken('bob')
    } finally {
      mock.timers.reset()
    }
    tokens.wrongAudience = await idTokenFor(sandbox, 'bob')
  })
  after(async () => {
    await sandbox?.close()
    await rm(cwd, { recursive: true, force: true })
  })

  it('minted the probe tokens it claims to: same issuer, expired, another audience', () => {
    const now = Date.now() / 1000
    for (const token of Object.values(tokens)) assert.equal(decodeJwt(token).iss, sandbox.idp.issuer)
    assert.ok((decodeJwt(tokens.valid).exp ?? 0) > now, 'expected: (decodeJwt(tokens.valid).exp ?? 0) > now')
    assert.ok((decodeJwt(tokens.expired).exp ?? now) < now - 60, 'expired beyond the gateway clock tolerance')
    const wrong = decodeJwt(tokens.wrongAudience)
    assert.ok((wrong.exp ?? 0) > now, 'expected: (wrong.exp ?? 0) > now')
    assert.notDeepEqual([wrong.aud].flat(), [sandbox.gatewayUrl])
    assert.equal(wrong.sub, 'bob')
  })

  it('passes every check of `airlock verify --gateway` it can run without the issuer’s signing key', async () => {
    const { code, out, err } = await cli(['verify', '--json', '--gateway', sandbox.gatewayUrl, '--token', tokens.valid, '--expired-token', tokens.expired, '--wrong-audience-token', tokens.wrongAudience])
    const report = z.object({ ok: z.boolean(), checks: z.array(z.object({ id: z.string(), status: z.string() })) }).parse(JSON.parse(out))
    // Lifetime, client and claim checks need a token re-signed with the issuer's key (--signing-key): said, not guessed.
    const unprobed = ['gateway.token-lifetime', 'gateway.client-pinning', 'gateway.required-claims'].map((id) => ({ id, status: 'WARN' }))
    assert.deepEqual(report.checks.filter((c) => c.status !== 'PASS'), unprobed, err)
    assert.equal(code, 0)
    assert.equal(report.ok, true)
    for (const id of ['gateway.expired-token', 'gateway.wrong-audience', 'gateway.valid-token', 'gateway.no-token', 'gateway.alg-none']) {
      assert.ok(report.checks.some((c) => c.id === id), id)
    }
  })

  it('fails the refusal checks when given tokens the gateway accepts', async () => {
    const { code, out } = await cli(['verify', '--gateway', sandbox.gatewayUrl, '--token', tokens.valid, '--expired-token', tokens.valid, '--wrong-audience-token', tokens.valid])
    assert.equal(code, 1)
    assert.match(out, /^FAIL\s+gateway\.expired-token\b/m)
    assert.match(out, /^FAIL\s+gateway\.wrong-audience\b/m)
    assert.match(out, /^PASS\s+gateway\.valid-token\b/m)
  })

  it('generates an IAM plan for policies/demo.json scoped to the demo ARNs, covering every call the sandbox made', async () => {
    const bob = await sandbox.idp.mintToken('bob')
    const alice = await sandbox.idp.mintToken('alice')
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js')
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js')
    for (const [token, name, args] of [
      [alice, 'sql_query', { connection: 'orders-db', sql: 'SELECT count(*) FROM orders' }],
      [bob, 'ssm_run', { connection: 'web-fleet', instance: 'i-0a1b2c3d4e5f60002', command: 'uptime' }],
      [bob, 'kubectl', { connection: 'demo-cluster', verb: 'list', resource: 'pods', namespace: 'shop' }],
    ] as const) {
      const client = new Client({ name: 'iam-plan-e2e', version: '1.0.0' })
      await client.connect(new StreamableHTTPClientTransport(new URL(sandbox.gatewayUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }))
      try {
        const result = await client.callTool({ name, arguments: { ...args } })
        assert.equal(result.isError, undefined, JSON.stringify(result.content))
      } finally {
        await client.close()
      }
    }

    const { code, out, err } = await cli(['iam-policy', '--policy', 'policies/demo.json', '--account', SANDBOX.account])
    assert.equal(code, 0, err)
    const plan = planSchema.parse(JSON.parse(out))
    const gateway = plan.gatewayRole.policy.Statement
    const orders = plan.connectionRoles.find((r) => r.roleArn === SANDBOX.connectionRoleArns[0])
    assert.ok(orders !== undefined, 'expected: orders !== undefined')
    assert.deepEqual(orders.connections, ['orders-db'])
    const demoArns = new Set<string>([
      SANDBOX.ordersClusterArn,
      SANDBOX.ordersSecretArn,
      SANDBOX.ordersReadOnlySecretArn,
      ...SANDBOX.connectionRoleArns,
      `arn:aws:eks:${SANDBOX.region}:${SANDBOX.account}:cluster/${SANDBOX.cluster}`,
      `arn:aws:ssm:${SANDBOX.region}::document/AWS-RunShellScript`,
      `arn:aws:ec2:${SANDBOX.region}:${SANDBOX.account}:instance/i-0a1b2c3d4e5f60001`,
      `arn:aws:ec2:${SANDBOX.region}:${SANDBOX.account}:instance/i-0a1b2c3d4e5f60002`,
    ])
    for (const statement of [...gateway, ...orders.policy.Statement]) {
      assert.ok(statement.Action.every((a) => !a.includes('*')), `${statement.Sid}: no wildcard action`)
      for (const resource of statement.Resource) {
        // SSM's command-result reads have no resource-level permissions in IAM.
        if (resource === '*') assert.equal(statement.Sid, 'SsmCommandResults')
        else assert.ok(demoArns.has(resource), `${statement.Sid}: ${resource} is not a demo ARN`)
      }
    }
    assert.ok(gateway.every((s) => s.Action.every((a) => !a.startsWith('rds-data:'))), 'the gateway itself gets no Data API access; the orders role does')

    // Every AWS call the sandbox saw is allowed by the plan, for the role that signed it.
    const allows = (statements: typeof gateway, action: string, resource: string | undefined) =>
      statements.some((s) => s.Action.includes(action) && (resource === undefined || s.Resource.includes(resource) || s.Resource.includes('*')))
    const data = sandbox.trail.entries().filter((e) => e.service !== 'sts' && e.outcome === 'ok')
    assert.deepEqual([...new Set(data.map((e) => e.service))].sort(), ['eks', 'rds-data', 'ssm'])
    for (const entry of data) {
      const role = /assumed-role\/([^/]+)\//.exec(entry.principalArn)?.[1]
      const statements = role === 'airlock-gateway' ? gateway : role === 'airlock-orders-access' ? orders.policy.Statement : []
      const resource = typeof entry.detail?.['resourceArn'] === 'string' ? entry.detail['resourceArn'] : undefined
      assert.ok(allows(statements, `${entry.service}:${entry.action}`, resource), `${role ?? entry.principalArn} ${entry.service}:${entry.action} is not in the plan`)
    }
    const assumed = sandbox.trail.entries().filter((e) => e.service === 'sts' && e.action === 'AssumeRole' && e.outcome === 'ok')
    assert.ok(assumed.length > 0, 'expected: assumed.length > 0')
    for (const entry of assumed) assert.ok(allows(gateway, 'sts:AssumeRole', String(entry.detail?.['roleArn'])), 'expected: allows(gateway, \'sts:AssumeRole\', String(entry.detail?.[\'roleArn\']))')
  })
})
