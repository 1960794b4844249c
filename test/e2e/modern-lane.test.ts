import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { startE2E, type E2E } from './support/start-e2e.js'
import { modernHeaders, modernRequest, openSession, postMcp } from './support/raw-http.js'

/** The JSON-RPC message in a response body: plain JSON, or the last `data:` frame of an SSE stream. */
function rpcMessage(text: string): Record<string, unknown> {
  const frames = text.split('\n').filter((line) => line.startsWith('data:'))
  const json = frames.length > 0 ? (frames.at(-1) ?? '').slice(5) : text
  const parsed: unknown = JSON.parse(json)
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), 'expected: typeof parsed === \'object\' && parsed !== null && !Array.isArray(parsed)')
  return Object.fromEntries(Object.entries(parsed))
}

function field(value: unknown, key: string): unknown {
  assert.ok(typeof value === 'object' && value !== null, `expected an object holding ${key}`)
  return Object.entries(value).find(([k]) => k === key)?.[1]
}

describe('the 2026-07-28 lane: the v2 client pinned to the modern revision, on the same endpoint', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  it('serves the pinned client without initialize or a session, as the verified caller', async () => {
    const client = await e2e.connectModern(await e2e.token('alice', ['dba'], { email: 'alice@example.com' }))
    assert.equal(client.getProtocolEra(), 'modern')
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28')
    const result = await client.callTool({ name: 'whoami', arguments: {} })
    assert.equal(result.isError, undefined, JSON.stringify(result.content))
    assert.equal(field(result.structuredContent, 'subject'), 'alice')
    assert.equal(field(result.structuredContent, 'email'), 'alice@example.com')
    const connections = await client.callTool({ name: 'list_connections', arguments: {} })
    assert.equal(connections.isError, undefined, JSON.stringify(connections.content))
  })

  it('lists each caller only their tools', async () => {
    const names = async (sub: string, groups: string[]) => {
      const client = await e2e.connectModern(await e2e.token(sub, groups))
      return (await client.listTools()).tools.map((t) => t.name).sort()
    }
    assert.deepEqual(await names('alice', ['dba']), ['list_connections', 'whoami'])
    assert.deepEqual(await names('bob', ['sre']), ['whoami'])
    assert.deepEqual(await names('mallory', []), ['whoami'], 'whoami is open to everyone signed in')
  })

  it('marks a tools/list result private and not reusable, on the wire', async () => {
    const token = await e2e.token('alice', ['dba'])
    const response = await postMcp(e2e.gateway.resource, modernRequest(1, 'tools/list'), modernHeaders(token, 'tools/list'))
    assert.equal(response.status, 200, response.text)
    const result = field(rpcMessage(response.text), 'result')
    assert.equal(field(result, 'cacheScope'), 'private')
    assert.equal(field(result, 'ttlMs'), 0)
    assert.equal(response.headers.get('mcp-session-id'), null)
  })

  it('refuses ungranted and unknown tools with a fixed sentence and a correlation id', async () => {
    const mallory = await e2e.connectModern(await e2e.token('mallory', []))
    const denied = await mallory.callTool({ name: 'list_connections', arguments: {} })
    assert.equal(denied.isError, true)
    assert.match(JSON.stringify(denied.content), /\[POLICY_DENIED\][^"]*correlation id [0-9a-f]{12}/)
    const bob = await e2e.connectModern(await e2e.token('bob', ['sre']))
    const unknown = await bob.callTool({ name: 'drop_database', arguments: {} })
    assert.match(JSON.stringify(unknown.content), /POLICY_DENIED/)
    const invalid = await bob.callTool({ name: 'whoami', arguments: { sneaky: 1 } })
    assert.match(JSON.stringify(invalid.content), /\[INPUT_INVALID\]/)
  })

  it('verifies the token on every request: a refused token gets 401, not the tool', async () => {
    const response = await postMcp(e2e.gateway.resource, modernRequest(1, 'tools/call', { name: 'whoami', arguments: {} }), modernHeaders('not-a-jwt', 'tools/call', 'whoami'))
    assert.equal(response.status, 401)
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /)
    const expired = await e2e.token('alice', ['dba'], { exp: Math.floor(e2e.clock.now() / 1000) - 3600 })
    const late = await postMcp(e2e.gateway.resource, modernRequest(2, 'tools/list'), modernHeaders(expired, 'tools/list'))
    assert.equal(late.status, 401)
  })

  it('audits modern calls with the identity and deciding grant, and no session', async () => {
    const client = await e2e.connectModern(await e2e.token('carol', ['dba']))
    await client.listTools()
    await client.callTool({ name: 'whoami', arguments: {} })
    const records = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((line) => rpcMessage(line))
    const call = records.find((r) => r.type === 'tools.call' && field(r.actor, 'sub') === 'carol')
    assert.ok(call !== undefined, 'a tools.call record for carol')
    assert.equal(call.grantId, 'dba-self')
    assert.equal(call.outcome, 'ok')
    assert.equal(call.session, undefined)
    assert.ok(records.some((r) => r.type === 'tools.list' && field(r.actor, 'sub') === 'carol'), 'expected: records.some((r) => r.type === \'tools.list\' && field(r.actor, \'sub\') === \'carol\')')
  })

  it('runs a grant’s access period from the first call under it, as on the 2025 lane: past it GRANT_EXPIRED until a fresh sign-in', async () => {
    const t0 = e2e.clock.now()
    const signIn = Math.floor(t0 / 1000)
    const call = async (claims: Record<string, unknown>) => {
      const client = await e2e.connectModern(await e2e.token('erin', ['dba'], claims))
      return client.callTool({ name: 'whoami', arguments: {} })
    }
    const first = await call({ auth_time: signIn })
    assert.equal(first.isError, undefined, JSON.stringify(first.content))
    const end = new Date(t0 + 15 * 60 * 1000)
    const hhmm = end.toISOString().slice(11, 16)
    assert.deepEqual(field(first.structuredContent, 'access'), [{ grantId: 'dba-self', status: 'active', endsAt: end.toISOString(), periodSeconds: 900 }])
    assert.match(JSON.stringify(first.content), new RegExp(`your access through dba-self ends at ${hhmm} UTC`))

    e2e.clock.advance(14 * 60 * 1000)
    // A refreshed token: a new iat, the same auth_time.
    assert.equal((await call({ auth_time: signIn })).isError, undefined, 'within the period')
    e2e.clock.advance(60 * 1000)
    const refreshed = await call({ auth_time: signIn })
    assert.equal(refreshed.isError, true)
    assert.match(JSON.stringify(refreshed.content), new RegExp(`\\[GRANT_EXPIRED\\] Your access period under this grant has ended; sign in again.*ended at ${hhmm} UTC.*correlation id [0-9a-f]{12}`))
    assert.doesNotMatch(JSON.stringify(refreshed.content), /initialize|session/i, 'nothing about protocol sessions on a lane without them')

    e2e.clock.advance(30 * 1000)
    const fresh = await call({ auth_time: Math.floor(e2e.clock.now() / 1000) })
    assert.equal(fresh.isError, undefined, JSON.stringify(fresh.content))
    const renewedEnd = new Date(e2e.clock.now() + 15 * 60 * 1000).toISOString()
    assert.equal((field(fresh.structuredContent, 'access') as { endsAt: string }[])[0]?.endsAt, renewedEnd)

    // An IdP that sends no auth_time: iat is the sign-in time, so each new token after the end renews.
    e2e.clock.advance(15 * 60 * 1000 + 1000)
    assert.match(JSON.stringify((await call({ auth_time: Math.floor(e2e.clock.now() / 1000) - 60 })).content), /GRANT_EXPIRED/)
    const noAuthTime = await call({})
    assert.equal(noAuthTime.isError, undefined, 'iat stands in for auth_time')
    // Neither iat nor auth_time: no period can start.
    const timeless = await e2e.connectModern(await e2e.token('gail', ['dba'], { iat: undefined }))
    assert.match(JSON.stringify((await timeless.callTool({ name: 'whoami', arguments: {} })).content), /\[SIGN_IN_REQUIRED\].*no sign-in time \(auth_time or iat\)/)
  })

  it('refuses subscriptions/listen instead of holding a stream open past the token', async () => {
    const token = await e2e.token('alice', ['dba'])
    const response = await postMcp(e2e.gateway.resource, modernRequest(9, 'subscriptions/listen', { filter: { toolsListChanged: true } }), modernHeaders(token, 'subscriptions/listen'))
    assert.equal(response.status, 200)
    const error = field(rpcMessage(response.text), 'error')
    assert.equal(field(error, 'code'), -32601)
    assert.equal(field(rpcMessage(response.text), 'id'), 9)
  })

  it('still serves a 2025 session on the same endpoint next to modern requests', async () => {
    const token = await e2e.token('alice', ['dba'])
    const sessionId = await openSession(e2e.gateway.resource, token)
    const modern = await postMcp(e2e.gateway.resource, modernRequest(1, 'tools/list'), modernHeaders(token, 'tools/list'))
    assert.equal(modern.status, 200)
    const legacy = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }, { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' })
    assert.equal(legacy.status, 200, legacy.text)
    assert.equal(field(field(rpcMessage(legacy.text), 'result'), 'cacheScope'), undefined)
  })
})
