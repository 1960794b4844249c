import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ModernClient, InsufficientScopeError, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client'
import { createTeardown } from '../support/teardown.js'
import { startE2E, type E2E } from './support/start-e2e.js'
import { modernHeaders, modernRequest, openSession, postMcp, sessionHeaders } from './support/raw-http.js'

const ORDERS_DB = {
  kind: 'rds-data',
  region: 'us-east-1',
  engine: 'postgres',
  database: 'orders',
  resourceArn: 'arn:aws:rds:us-east-1:111122223333:cluster:orders',
  secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:orders-Ab12Cd',
}

/** whoami needs no scope; list_connections one; sql_query two (the challenge names both). */
const SCOPED_POLICY = {
  version: 1,
  connections: { 'orders-db': ORDERS_DB },
  grants: [
    { id: 'dba-self', groups: ['dba'], tools: ['whoami', 'list_connections'] },
    { id: 'dba-sql', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'] },
  ],
  toolScopes: { list_connections: ['airlock.inventory'], sql_query: ['airlock.sql', 'airlock.read'] },
}

const CHALLENGE = /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp", scope="([^"]+)", error="insufficient_scope", error_description="[^"]+"$/

interface Answer {
  readonly status: number
  readonly challenge: string | null
}

/** A fetch that remembers the last answer, so a test can read what the real client was told. */
function recordingFetch(): { fetch: typeof fetch; last: () => Answer | undefined } {
  let last: Answer | undefined
  return {
    async fetch(input, init) {
      const response = await fetch(input, init)
      last = { status: response.status, challenge: response.headers.get('www-authenticate') }
      return response
    },
    last: () => last,
  }
}

/** The scope a challenge asks for, asserting its exact shape. */
function challengedScope(header: string | null | undefined): string {
  const match = CHALLENGE.exec(header ?? '')
  assert.ok(match !== null, `expected an insufficient_scope challenge, got ${String(header)}`)
  return match[1] ?? ''
}

describe('insufficient_scope step-up: a tool whose scopes the token lacks gets 403 naming them, on both lanes', () => {
  let e2e: E2E
  const teardown = createTeardown()
  before(async () => {
    e2e = await startE2E({ policy: SCOPED_POLICY, config: { scopesSupported: ['openid', 'offline_access', 'airlock'] } })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  const token = (sub: string, scope?: string) => e2e.token(sub, ['dba'], scope === undefined ? {} : { scope })

  /** The v1 SDK client (the 2025 lane, a session), with a fetch that records the answers. */
  async function legacyClient(bearer: string): Promise<{ client: Client; last: () => Answer | undefined }> {
    const recorder = recordingFetch()
    const client = new Client({ name: 'scope-e2e-legacy', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(e2e.gateway.resource), { requestInit: { headers: { Authorization: `Bearer ${bearer}` } }, fetch: recorder.fetch }))
    teardown.add(() => client.close())
    return { client, last: recorder.last }
  }

  /** The v2 SDK client pinned to 2026-07-28 (no initialize, no session). */
  async function modernClient(bearer: string): Promise<ModernClient> {
    const client = new ModernClient({ name: 'scope-e2e-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
    await client.connect(new ModernTransport(new URL(e2e.gateway.resource), { requestInit: { headers: { Authorization: `Bearer ${bearer}` } } }))
    teardown.add(() => client.close())
    return client
  }

  describe('the 2025 lane (v1 client, session)', () => {
    it('missing scope: 403 with the challenge naming it; the session stays usable', async () => {
      const { client, last } = await legacyClient(await token('alice'))
      await assert.rejects(client.callTool({ name: 'list_connections', arguments: {} }), (error: unknown) => {
        assert.equal(Reflect.get(Object(error), 'code'), 403)
        return true
      })
      assert.equal(last()?.status, 403)
      assert.equal(challengedScope(last()?.challenge), 'airlock.inventory')
      const who = await client.callTool({ name: 'whoami', arguments: {} })
      assert.equal(who.isError, undefined, 'a tool without a scope requirement is unaffected')
    })

    it('every scope a tool needs is named, even the ones the token has', async () => {
      const { client, last } = await legacyClient(await token('alice', 'airlock.sql'))
      await assert.rejects(client.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'select 1' } }))
      assert.equal(challengedScope(last()?.challenge), 'airlock.read airlock.sql')
    })

    it('scope present: the call is served; a scope for another tool does not count', async () => {
      const { client } = await legacyClient(await token('alice', 'openid airlock.inventory'))
      const listed = await client.callTool({ name: 'list_connections', arguments: {} })
      assert.equal(listed.isError, undefined, JSON.stringify(listed.content))
      const other = await legacyClient(await token('alice', 'airlock.sql airlock.read'))
      await assert.rejects(other.client.callTool({ name: 'list_connections', arguments: {} }))
      assert.equal(challengedScope(other.last()?.challenge), 'airlock.inventory')
    })

    it('both scopes present: sql_query gets past the scope check to the tool itself', async () => {
      const { client } = await legacyClient(await e2e.token('alice', ['dba'], { scp: ['airlock.sql', 'airlock.read'] }))
      const result = await client.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'select 1' } })
      // The gateway has no AWS credentials in these tests: the tool ran and failed upstream.
      assert.equal(result.isError, true)
      assert.match(JSON.stringify(result.content), /\[AWS_CREDENTIALS\]/)
    })

    it('lists scoped tools to a caller whose token lacks their scopes (the challenge comes at call time)', async () => {
      const { client } = await legacyClient(await token('alice'))
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['list_connections', 'sql_query', 'whoami'])
    })
  })

  describe('the 2026-07-28 lane (v2 client, pinned)', () => {
    it('missing scope: the v2 client reads the challenge as InsufficientScopeError naming the scope and the metadata', async () => {
      const client = await modernClient(await token('alice'))
      await assert.rejects(client.callTool({ name: 'list_connections', arguments: {} }), (error: unknown) => {
        assert.ok(error instanceof InsufficientScopeError, `expected InsufficientScopeError, got ${String(error)}`)
        assert.equal(error.requiredScope, 'airlock.inventory')
        assert.equal(String(error.resourceMetadataUrl), `${e2e.gateway.origin}/.well-known/oauth-protected-resource/mcp`)
        return true
      })
      const who = await client.callTool({ name: 'whoami', arguments: {} })
      assert.equal(who.isError, undefined, 'a tool without a scope requirement is unaffected')
    })

    it('step-up: a token with the challenged scopes added is served', async () => {
      const first = await modernClient(await token('alice', 'openid'))
      const error: unknown = await first.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'select 1' } }).then(
        () => assert.fail('expected a scope challenge'),
        (rejection: unknown) => rejection,
      )
      assert.ok(error instanceof InsufficientScopeError, `expected InsufficientScopeError, got ${String(error)}`)
      assert.equal(error.requiredScope, 'airlock.read airlock.sql')
      // What an authorization server would issue after consent: the scopes held plus those asked for.
      const second = await modernClient(await token('alice', `openid ${error.requiredScope ?? ''}`))
      const result = await second.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'select 1' } })
      assert.match(JSON.stringify(result.content), /\[AWS_CREDENTIALS\]/, 'past the scope check, into the tool')
    })

    it('a scope for another tool does not count; the right one does', async () => {
      const other = await modernClient(await token('alice', 'airlock.sql airlock.read'))
      await assert.rejects(other.callTool({ name: 'list_connections', arguments: {} }), InsufficientScopeError)
      const right = await modernClient(await token('alice', 'airlock.inventory'))
      const listed = await right.callTool({ name: 'list_connections', arguments: {} })
      assert.equal(listed.isError, undefined, JSON.stringify(listed.content))
    })
  })

  describe('decided from the body, audited, and advertised', () => {
    it('the body decides, not Mcp-Name: a header naming an unscoped tool does not let a scoped call through', async () => {
      const bearer = await token('alice')
      const body = modernRequest(1, 'tools/call', { name: 'list_connections', arguments: {} })
      const response = await postMcp(e2e.gateway.resource, body, modernHeaders(bearer, 'tools/call', 'whoami'))
      assert.equal(response.status, 403, response.text)
      assert.equal(challengedScope(response.headers.get('www-authenticate')), 'airlock.inventory')
      const sessionId = await openSession(e2e.gateway.resource, bearer)
      const legacy = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_connections', arguments: {} } }, sessionHeaders(bearer, sessionId))
      assert.equal(legacy.status, 403, legacy.text)
    })

    it('a scoped call inside a 2025 batch refuses the whole request; nothing in it is served', async () => {
      const bearer = await token('erin')
      const sessionId = await openSession(e2e.gateway.resource, bearer)
      const batch = [
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_connections', arguments: {} } },
      ]
      const response = await postMcp(e2e.gateway.resource, batch, sessionHeaders(bearer, sessionId))
      assert.equal(response.status, 403, response.text)
      assert.equal(challengedScope(response.headers.get('www-authenticate')), 'airlock.inventory')
      const records = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((line) => Object(JSON.parse(line)))
      assert.ok(!records.some((r) => r.type === 'tools.call' && r.actor?.sub === 'erin' && r.outcome === 'ok'), 'the unscoped call in the batch did not run either')
    })

    it('answers with the OAuth error body and a correlation id, never the token', async () => {
      const bearer = await token('alice')
      const response = await postMcp(e2e.gateway.resource, modernRequest(1, 'tools/call', { name: 'list_connections', arguments: {} }), modernHeaders(bearer, 'tools/call', 'list_connections'))
      const body: unknown = JSON.parse(response.text)
      assert.deepEqual(Object.keys(Object(body)).sort(), ['correlation_id', 'error', 'error_description'])
      assert.equal(Reflect.get(Object(body), 'error'), 'insufficient_scope')
      assert.match(String(Reflect.get(Object(body), 'correlation_id')), /^[0-9a-f]{12}$/)
      assert.ok(!response.text.includes(bearer.slice(0, 20)), 'the token is not echoed')
    })

    it('records the refusal as a denied call with the scopes needed and missing', async () => {
      const { client } = await legacyClient(await e2e.token('dave', ['dba'], { scope: 'airlock.read' }))
      await assert.rejects(client.callTool({ name: 'sql_query', arguments: { connection: 'orders-db', sql: 'select 1' } }))
      const records = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((line): unknown => JSON.parse(line))
      const refusal = records.map((r) => Object(r)).find((r) => r.type === 'tools.call' && r.actor?.sub === 'dave')
      assert.ok(refusal !== undefined, 'a tools.call record for dave')
      assert.equal(refusal.decision, 'deny')
      assert.equal(refusal.outcome, 'denied')
      assert.equal(refusal.code, 'AUTH_FORBIDDEN')
      assert.equal(refusal.reason, 'insufficient_scope')
      assert.equal(refusal.tool, 'sql_query')
      const started = records.map((r) => Object(r)).find((r) => r.type === 'session.start' && r.actor?.sub === 'dave')
      assert.equal(refusal.session, started?.session, 'the 2025 lane names the session (hashed) the call came in')
      assert.deepEqual(refusal.detail, { requiredScopes: ['airlock.read', 'airlock.sql'], missingScopes: ['airlock.sql'] })
      assert.equal(refusal.policyFingerprint, e2e.gateway.policy.current().fingerprint)
      assert.ok(!records.some((r) => Object(r).type === 'tools.intent' && Object(r).actor?.sub === 'dave'), 'the tool never started')
    })

    it('advertises the tool scopes and never offline_access, on both well-known paths, following policy reloads', async () => {
      for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
        const metadata: unknown = await (await fetch(`${e2e.gateway.origin}${path}`)).json()
        assert.equal(Reflect.get(Object(metadata), 'resource'), e2e.gateway.resource, path)
        assert.deepEqual(Reflect.get(Object(metadata), 'scopes_supported'), ['openid', 'airlock', 'airlock.inventory', 'airlock.read', 'airlock.sql'], path)
      }
      await e2e.writePolicy({ ...SCOPED_POLICY, toolScopes: { whoami: ['airlock.me'] } })
      assert.ok(await e2e.gateway.policy.reload(), 'the edited policy was swapped in')
      const reloaded: unknown = await (await fetch(`${e2e.gateway.origin}/.well-known/oauth-protected-resource/mcp`)).json()
      assert.deepEqual(Reflect.get(Object(reloaded), 'scopes_supported'), ['openid', 'airlock', 'airlock.me'])
      const now = await modernClient(await token('alice'))
      assert.equal((await now.callTool({ name: 'list_connections', arguments: {} })).isError, undefined, 'no longer scoped')
      await assert.rejects(now.callTool({ name: 'whoami', arguments: {} }), InsufficientScopeError)
      await e2e.writePolicy(SCOPED_POLICY)
      assert.ok(await e2e.gateway.policy.reload(), 'the original policy is back')
    })
  })
})
