import assert from 'node:assert/strict'
import { rename, rm, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import type { ReadinessCheck } from '../../src/readiness-check.js'
import { defineTool, type AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { createTeardown } from '../support/teardown.js'
import { postMcp } from './support/raw-http.js'
import { E2E_POLICY, startE2E, type E2E } from './support/start-e2e.js'

const reportSchema = z.object({ status: z.string(), checks: z.record(z.string(), z.object({ ok: z.boolean(), reason: z.string().optional() })) })

/** The value of one series in the exposition text (0 when the series is absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

async function eventually(probe: () => Promise<boolean>, ms = 3_000): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await sleep(25)) if (await probe()) return true
  return probe()
}

function adminOf(e2e: E2E): string {
  const origin = e2e.gateway.admin?.origin
  assert.ok(origin !== undefined, 'the admin listener is on by default')
  return origin
}

async function metrics(e2e: E2E): Promise<string> {
  const response = await fetch(`${adminOf(e2e)}/metrics`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/)
  return response.text()
}

async function readyz(e2e: E2E): Promise<{ status: number; body: z.infer<typeof reportSchema> }> {
  const response = await fetch(`${adminOf(e2e)}/readyz`)
  return { status: response.status, body: reportSchema.parse(await response.json()) }
}

describe('the admin listener: /metrics, /healthz, /readyz apart from the public one', () => {
  const teardown = createTeardown()
  let e2e: E2E
  let stateStoreUp = true
  // A store another component plugs in: readiness follows it without the gateway knowing what it is.
  const stateStore: ReadinessCheck = { name: 'state_store', check: async () => (stateStoreUp ? { ok: true } : { ok: false, reason: 'state_store_unreachable' }) }

  before(async () => {
    e2e = await startE2E({ readinessChecks: [stateStore] })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  it('listens on its own port, and the public listener does not serve its routes', async () => {
    const admin = new URL(adminOf(e2e))
    assert.equal(admin.hostname, '127.0.0.1')
    assert.notEqual(admin.port, new URL(e2e.gateway.origin).port)
    assert.deepEqual(await (await fetch(`${admin.origin}/healthz`)).json(), { status: 'ok' })
    for (const path of ['/metrics', '/readyz']) assert.equal((await fetch(new URL(path, e2e.gateway.origin))).status, 404, path)
    assert.equal((await fetch(`${admin.origin}/nothing`)).status, 404)
    const post = await fetch(`${admin.origin}/metrics`, { method: 'POST' })
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')
  })

  it('exports every gateway metric, and the counts move with calls, denials and refused tokens', async () => {
    const before = await metrics(e2e)
    for (const name of ['airlock_http_requests_total', 'airlock_auth_failures_total', 'airlock_tool_calls_total', 'airlock_tool_call_duration_seconds', 'airlock_audit_commit_duration_seconds', 'airlock_audit_records_total', 'airlock_policy_info', 'airlock_jwks_refreshes_total', 'airlock_sessions_active', 'airlock_rate_limited_total', 'process_resident_memory_bytes']) {
      assert.match(before, new RegExp(`^# TYPE ${name} `, 'm'), name)
    }
    assert.equal(sample(before, `airlock_policy_info{fingerprint="${e2e.gateway.policy.current().fingerprint}"}`), 1)

    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    assert.equal((await client.callTool({ name: 'whoami', arguments: {} })).isError, undefined)
    const { client: bob } = await e2e.connect(await e2e.token('bob', ['sre']))
    assert.equal((await bob.callTool({ name: 'list_connections', arguments: {} })).isError, true)
    const wrongAudience = await e2e.issuer.mint({ sub: 'mallory', aud: 'https://elsewhere.example/mcp' })
    assert.equal((await postMcp(e2e.gateway.resource, {}, { authorization: `Bearer ${wrongAudience}` })).status, 401)
    assert.equal((await postMcp(e2e.gateway.resource, {})).status, 401)
    assert.equal((await fetch(new URL('/.well-known/oauth-protected-resource/mcp', e2e.gateway.origin))).status, 200)
    assert.equal((await fetch(new URL('/healthz', e2e.gateway.origin))).status, 200)
    assert.equal((await fetch(new URL('/elsewhere', e2e.gateway.origin))).status, 404)

    const after = await metrics(e2e)
    const moved = (series: string) => sample(after, series) - sample(before, series)
    assert.equal(moved('airlock_tool_calls_total{tool="whoami",outcome="ok"}'), 1)
    assert.equal(moved('airlock_tool_calls_total{tool="list_connections",outcome="denied"}'), 1)
    assert.equal(moved('airlock_tool_call_duration_seconds_count{tool="whoami",outcome="ok"}'), 1)
    assert.equal(moved('airlock_auth_failures_total{reason="wrong_audience"}'), 1)
    assert.equal(moved('airlock_auth_failures_total{reason="missing"}'), 1)
    assert.ok(moved('airlock_http_requests_total{route="mcp",outcome="unauthenticated"}') >= 2, 'refused requests are counted')
    assert.ok(moved('airlock_http_requests_total{route="mcp",outcome="ok"}') >= 4, 'initialize and tools/call of two clients')
    assert.equal(moved('airlock_http_requests_total{route="metadata",outcome="ok"}'), 1)
    assert.equal(moved('airlock_http_requests_total{route="healthz",outcome="ok"}'), 1)
    assert.equal(moved('airlock_http_requests_total{route="other",outcome="not_found"}'), 1)
    assert.ok(moved('airlock_audit_records_total') >= 4, 'session starts and call records were committed')
    assert.equal(sample(after, 'airlock_sessions_active'), await e2e.gateway.gateway.sessions.count())
    assert.ok(sample(after, 'airlock_sessions_active') >= 2, 'two live sessions')
    assert.ok(sample(after, 'airlock_jwks_refreshes_total{result="ok"}') >= 1, 'keys were fetched')
    assert.doesNotMatch(after, /alice|bob|mallory/, 'no subject becomes a label')
  })

  it('exports the fingerprint of a reloaded policy in place of the old one', async () => {
    const old = e2e.gateway.policy.current().fingerprint
    await e2e.writePolicy({ ...E2E_POLICY, grants: [...(E2E_POLICY.grants ?? []), { id: 'extra', groups: ['ops'], tools: ['whoami'] }] })
    assert.ok(await eventually(async () => e2e.gateway.policy.current().fingerprint !== old), 'reloaded within 3 s')
    const text = await metrics(e2e)
    assert.equal(sample(text, `airlock_policy_info{fingerprint="${e2e.gateway.policy.current().fingerprint}"}`), 1)
    assert.doesNotMatch(text, new RegExp(old))
    await e2e.writePolicy(E2E_POLICY)
  })

  it('/readyz names each check, and is 503 with the failing check’s reason while a plugged-in store is down', async () => {
    assert.deepEqual(await readyz(e2e), {
      status: 200,
      body: { status: 'ready', checks: { draining: { ok: true }, policy: { ok: true }, issuer_keys: { ok: true }, audit: { ok: true }, state: { ok: true }, state_store: { ok: true } } },
    })
    stateStoreUp = false
    const down = await readyz(e2e)
    assert.equal(down.status, 503)
    assert.equal(down.body.status, 'not_ready')
    assert.deepEqual(down.body.checks.state_store, { ok: false, reason: 'state_store_unreachable' })
    assert.deepEqual(down.body.checks.audit, { ok: true })
    assert.deepEqual(await (await fetch(`${adminOf(e2e)}/healthz`)).json(), { status: 'ok' }, 'alive all the same')
    stateStoreUp = true
    assert.equal((await readyz(e2e)).status, 200)
  })

  it('/readyz is 503 audit_write_failed while the audit file cannot take records, and ready again after', async () => {
    // Someone else's file at the audit path: the log must not append to it, so it fails closed.
    await rename(e2e.auditPath, `${e2e.auditPath}.moved`)
    await writeFile(e2e.auditPath, 'not an airlock record\n')
    // Past the sampling window of the refusals above, so this one is written (and meets the foreign file).
    e2e.clock.advance(11_000)
    assert.equal((await postMcp(e2e.gateway.resource, {})).status, 401, 'an audited refusal meets the foreign file')
    const down = await readyz(e2e)
    assert.equal(down.status, 503)
    assert.deepEqual(down.body.checks.audit, { ok: false, reason: 'audit_write_failed' })
    // The public /healthz keeps its old one-line answer for load balancers that probe it.
    assert.deepEqual(await (await fetch(new URL('/healthz', e2e.gateway.origin))).json(), { status: 'unavailable', reason: 'audit_unavailable' })

    await rm(e2e.auditPath)
    e2e.clock.advance(5_000)
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    await client.listTools()
    assert.equal((await readyz(e2e)).status, 200)
  })
})

describe('/readyz while the issuer has never answered', () => {
  const teardown = createTeardown()
  let e2e: E2E
  before(async () => {
    e2e = await startE2E({ issuerDownAtStart: true })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  it('is 503 issuer_keys_unavailable, and ready once a probe finds the issuer back', async () => {
    const down = await readyz(e2e)
    assert.equal(down.status, 503)
    assert.deepEqual(down.body.checks.issuer_keys, { ok: false, reason: 'issuer_keys_unavailable' })
    e2e.issuer.setDown(false)
    e2e.clock.advance(5_000)
    const before = e2e.issuer.jwksRequests
    assert.equal((await readyz(e2e)).status, 200)
    assert.equal(e2e.issuer.jwksRequests, before + 1, 'the probe itself fetched the keys')
  })
})

describe('/readyz during shutdown, and the admin listener closing with the gateway', () => {
  const teardown = createTeardown()
  let e2e: E2E
  let release: () => void = () => undefined
  let started: () => void = () => undefined
  const inFlight = new Promise<void>((resolve) => (started = resolve))
  const slow = defineTool({
    name: 'slow',
    title: 'Slow',
    description: 'Returns when the test lets it.',
    connectionKinds: [],
    input: {},
    annotations: () => ({ readOnlyHint: true, destructiveHint: false }),
    async handler() {
      started()
      await new Promise<void>((resolve) => (release = resolve))
      return { text: 'done' }
    },
  })

  before(async () => {
    e2e = await startE2E({
      tools: [...registeredTools, slow as unknown as AnyToolDefinition],
      policy: { version: 1, grants: [{ id: 'slow', groups: ['dba'], tools: ['slow'] }] },
    })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  it('turns not ready as the drain begins, stays scrapeable while a call finishes, then stops listening', async () => {
    const admin = adminOf(e2e)
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    const call = client.callTool({ name: 'slow', arguments: {} })
    await inFlight
    const closing = e2e.gateway.close()
    const draining = await readyz(e2e)
    assert.equal(draining.status, 503)
    assert.deepEqual(draining.body.checks.draining, { ok: false, reason: 'shutting_down' })
    assert.deepEqual(await (await fetch(`${admin}/healthz`)).json(), { status: 'ok' }, 'alive while draining')
    assert.match(await metrics(e2e), /^airlock_sessions_active 1$/m)
    release()
    assert.deepEqual((await call).content, [{ type: 'text', text: 'done' }])
    await closing
    await assert.rejects(fetch(`${admin}/healthz`), 'the admin listener is closed')
  })
})

describe('admin.enabled false', () => {
  it('starts no admin listener', async () => {
    const e2e = await startE2E({ config: { admin: { enabled: false } } })
    try {
      assert.equal(e2e.gateway.admin, undefined)
      assert.equal((await e2e.gateway.readiness()).ready, true)
    } finally {
      await e2e.close()
    }
  })
})
