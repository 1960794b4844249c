import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { ALLOWED_ORIGIN, startE2E, type E2E } from './support/start-e2e.js'
import { INITIALIZE, openSession, postMcp, sessionHeaders } from './support/raw-http.js'

const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }

/** The text of a tool result's first content block. */
function textOf(result: Record<string, unknown>): string {
  const [first] = Array.isArray(result.content) ? result.content : []
  return typeof first === 'object' && first !== null && 'text' in first && typeof first.text === 'string' ? first.text : ''
}

describe('tools, sessions and HTTP guards through the real MCP client', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  it('shows each caller only the tools their groups are granted', async () => {
    const names = async (sub: string, groups: string[]) => {
      const { client } = await e2e.connect(await e2e.token(sub, groups))
      const { tools } = await client.listTools()
      await client.close()
      return tools.map((t) => t.name).sort()
    }
    assert.deepEqual(await names('alice', ['dba']), ['list_connections', 'whoami'])
    assert.deepEqual(await names('bob', ['sre']), ['whoami'])
    assert.deepEqual(await names('mallory', []), ['whoami'], 'whoami is open to everyone signed in')
  })

  it('allows a granted call and reports the verified identity', async () => {
    const { client } = await e2e.connect(await e2e.token('alice', ['dba'], { email: 'alice@example.com' }))
    const result = await client.callTool({ name: 'whoami', arguments: {} })
    assert.equal(result.isError, undefined)
    const structured = result.structuredContent as Record<string, unknown>
    assert.equal(structured.subject, 'alice')
    assert.deepEqual(structured.groups, ['dba'])
    assert.equal(structured.email, 'alice@example.com')
    assert.equal(structured.issuer, e2e.issuer.issuer)
  })

  it('denies an ungranted call with a stable code, touching nothing', async () => {
    const { client } = await e2e.connect(await e2e.token('mallory', []))
    const result = await client.callTool({ name: 'list_connections', arguments: {} })
    assert.equal(result.isError, true)
    const text = JSON.stringify(result.content)
    assert.match(text, /\[POLICY_DENIED\]/)
    assert.match(text, /correlation id [0-9a-f]{12}/)
    const bob = await e2e.connect(await e2e.token('bob', ['sre']))
    const denied = await bob.client.callTool({ name: 'list_connections', arguments: {} })
    assert.equal(denied.isError, true)
    const unknown = await bob.client.callTool({ name: 'drop_database', arguments: {} })
    assert.equal(unknown.isError, true)
    assert.match(JSON.stringify(unknown.content), /POLICY_DENIED/)
  })

  it('rejects unknown arguments with INPUT_INVALID', async () => {
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    const result = await client.callTool({ name: 'whoami', arguments: { sneaky: 1 } })
    assert.equal(result.isError, true)
    assert.match(JSON.stringify(result.content), /INPUT_INVALID/)
  })

  it('answers 404 to a session used with another subject token (hijack), and audits it', async () => {
    const alice = await e2e.token('alice', ['dba'])
    const bob = await e2e.token('bob', ['sre'])
    const id = await openSession(e2e.gateway.resource, alice)
    const hijack = await postMcp(e2e.gateway.resource, listTools, sessionHeaders(bob, id))
    assert.equal(hijack.status, 404)
    const own = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionHeaders(alice, id))
    assert.equal(own.status, 202)
    const audit = await readFile(e2e.auditPath, 'utf8')
    assert.match(audit, /"type":"session.rejected"[^\n]*"reason":"wrong_subject"/)
  })

  it('verifies the token on every request, not only at initialize', async () => {
    const alice = await e2e.token('alice', ['dba'])
    const id = await openSession(e2e.gateway.resource, alice)
    const now = Math.floor(e2e.clock.now() / 1000)
    const expired = await e2e.token('alice', ['dba'], { iat: now - 900, exp: now - 300 })
    const response = await postMcp(e2e.gateway.resource, listTools, sessionHeaders(expired, id))
    assert.equal(response.status, 401)
  })

  it('DELETE ends a session; later requests get 404', async () => {
    const alice = await e2e.token('alice', ['dba'])
    const id = await openSession(e2e.gateway.resource, alice)
    const deleted = await fetch(e2e.gateway.resource, { method: 'DELETE', headers: sessionHeaders(alice, id) })
    assert.equal(deleted.status, 200)
    const after = await postMcp(e2e.gateway.resource, listTools, sessionHeaders(alice, id))
    assert.equal(after.status, 404)
  })

  it('refuses a foreign Origin with 403 and accepts an allowed one', async () => {
    const alice = await e2e.token('alice', ['dba'])
    const foreign = await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${alice}`, origin: 'https://evil.example' })
    assert.equal(foreign.status, 403)
    const allowed = await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${alice}`, origin: ALLOWED_ORIGIN })
    assert.equal(allowed.status, 200)
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN)
  })

  it('refuses a body over 1 MiB with 413', async () => {
    const alice = await e2e.token('alice', ['dba'])
    const big = JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, pad: 'x'.repeat(1024 * 1024) } })
    const response = await postMcp(e2e.gateway.resource, big, { authorization: `Bearer ${alice}` })
    assert.equal(response.status, 413)
  })

  it('refuses a Host header it does not serve (DNS rebinding)', async () => {
    const { request } = await import('node:http')
    const url = new URL(e2e.gateway.resource)
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/mcp', method: 'POST', headers: { host: 'attacker.example', 'content-type': 'application/json' } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end(JSON.stringify(INITIALIZE))
    })
    assert.equal(status, 403)
  })
})

describe('session lifetime', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E({ config: { sessions: { idleTimeoutSeconds: 1200, maxPerSubject: 2, maxTotal: 100, maxLifetimeSeconds: 3600 } } })
  })
  after(() => e2e.close())

  it('runs a grant’s access period from the first call under it: whoami shows its end, past it GRANT_EXPIRED until a fresh sign-in', async () => {
    const signIn = Math.floor(e2e.clock.now() / 1000)
    const first = await e2e.connect(await e2e.token('alice', ['dba'], { auth_time: signIn }))
    const id = first.transport.sessionId ?? assert.fail('a 2025-lane session')
    const whoami = await first.client.callTool({ name: 'whoami', arguments: {} })
    assert.deepEqual((whoami.structuredContent as Record<string, unknown>).access, [
      { grantId: 'dba-self', status: 'active', endsAt: '2026-11-29T12:15:00.000Z', periodSeconds: 900 },
    ])
    assert.match(JSON.stringify(whoami.content), /your access through dba-self ends at 12:15 UTC/)

    // Tokens expire within minutes: each step continues the same session with a token issued then.
    const call = async (claims: Record<string, unknown>, name = 'whoami') => {
      const { client } = await e2e.connect(await e2e.token('alice', ['dba'], claims), id)
      return client.callTool({ name, arguments: {} })
    }
    e2e.clock.advance(15 * 60 * 1000 - 1000)
    assert.equal((await call({ auth_time: signIn })).isError, undefined, 'a refreshed token within the period')
    e2e.clock.advance(1000)
    const ended = await call({ auth_time: signIn })
    assert.equal(ended.isError, true)
    assert.match(textOf(ended), /^\[GRANT_EXPIRED\] .*sign in again.*grant "dba-self" ended at 12:15 UTC \(2026-11-29T12:15:00.000Z\)\. \(correlation id [0-9a-f]{12}\)$/)
    assert.match(JSON.stringify((await call({ auth_time: signIn }, 'list_connections')).content), /GRANT_EXPIRED/, 'every tool under the grant')

    // The session itself lives on: it no longer carries grant time. A minute later, the agent signs in again.
    e2e.clock.advance(60 * 1000)
    const fresh = await e2e.token('alice', ['dba'], { auth_time: Math.floor(e2e.clock.now() / 1000) })
    assert.equal((await postMcp(e2e.gateway.resource, listTools, sessionHeaders(fresh, id))).status, 200)
    const renewed = await call({ auth_time: Math.floor(e2e.clock.now() / 1000) })
    assert.equal(renewed.isError, undefined, JSON.stringify(renewed.content))
    assert.match(JSON.stringify(renewed.content), /your access through dba-self ends at 12:31 UTC/)

    const records = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    const activations = records.filter((r) => r.type === 'grant.activated' && (r.actor as Record<string, unknown>).sub === 'alice')
    assert.deepEqual(
      activations.map((r) => [r.grantId, (r.detail as Record<string, unknown>).expiresAt, (r.detail as Record<string, unknown>).renewed, typeof r.session]),
      [
        ['dba-self', '2026-11-29T12:15:00.000Z', false, 'string'],
        ['dba-self', '2026-11-29T12:31:00.000Z', true, 'string'],
      ],
    )
    // Refusals are sampled per identity like other denials: the first of the window is recorded.
    const refused = records.filter((r) => r.type === 'tools.call' && r.code === 'GRANT_EXPIRED')
    assert.deepEqual(refused.map((r) => [r.decision, r.reason, r.grantId]), [['deny', 'ACTIVATION_ENDED', 'dba-self']])
  })

  it('ends a session at its absolute lifetime however active it is (404 afterwards)', async () => {
    const token = await e2e.token('frank', ['sre'])
    const id = await openSession(e2e.gateway.resource, token)
    for (let minutes = 0; minutes < 60; minutes += 15) {
      e2e.clock.advance(15 * 60 * 1000)
      const status = (await postMcp(e2e.gateway.resource, listTools, sessionHeaders(await e2e.token('frank', ['sre']), id))).status
      assert.equal(status, minutes + 15 < 60 ? 200 : 404, `after ${minutes + 15} min`)
    }
  })

  it('caps sessions per subject by evicting the oldest', async () => {
    const token = await e2e.token('carol', ['sre'])
    const first = await openSession(e2e.gateway.resource, token)
    await openSession(e2e.gateway.resource, token)
    await openSession(e2e.gateway.resource, token)
    const response = await postMcp(e2e.gateway.resource, listTools, sessionHeaders(token, first))
    assert.equal(response.status, 404)
  })

  it('ends idle sessions', async () => {
    const token = await e2e.token('dave', ['sre'])
    const id = await openSession(e2e.gateway.resource, token)
    e2e.clock.advance(1201 * 1000)
    const fresh = await e2e.token('dave', ['sre'])
    const response = await postMcp(e2e.gateway.resource, listTools, sessionHeaders(fresh, id))
    assert.equal(response.status, 404)
  })
})
