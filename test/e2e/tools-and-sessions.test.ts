import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { ALLOWED_ORIGIN, startE2E, type E2E } from './support/start-e2e.js'
import { INITIALIZE, openSession, postMcp, sessionHeaders } from './support/raw-http.js'

const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }

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
    assert.deepEqual(await names('mallory', []), [])
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
    const result = await client.callTool({ name: 'whoami', arguments: {} })
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
    e2e = await startE2E({ config: { sessions: { idleTimeoutSeconds: 1200, maxPerSubject: 2, maxTotal: 100 } } })
  })
  after(() => e2e.close())

  it('ends a session at the shortest ttl of the grants it used (404 afterwards)', async () => {
    const token = await e2e.token('alice', ['dba'])
    const { client, transport } = await e2e.connect(token)
    const whoami = await client.callTool({ name: 'whoami', arguments: {} })
    const expires = Date.parse(String((whoami.structuredContent as Record<string, unknown>).sessionExpiresAt))
    assert.equal(expires - e2e.clock.now(), 15 * 60 * 1000)
    const id = transport.sessionId ?? ''
    e2e.clock.advance(15 * 60 * 1000 - 1000)
    const stillValid = await e2e.token('alice', ['dba'])
    assert.equal((await postMcp(e2e.gateway.resource, listTools, sessionHeaders(stillValid, id))).status, 200)
    e2e.clock.advance(1001)
    // A fresh, valid token: the 404 comes from the session's end, not from token expiry.
    const fresh = await e2e.token('alice', ['dba'])
    assert.equal((await postMcp(e2e.gateway.resource, listTools, sessionHeaders(fresh, id))).status, 404)
    const again = await e2e.connect(fresh)
    assert.ok(again.transport.sessionId !== undefined && again.transport.sessionId !== id, 'expected: again.transport.sessionId !== undefined && again.transport.sessionId !== id')
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
