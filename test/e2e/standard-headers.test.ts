import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { startE2E, type E2E } from './support/start-e2e.js'
import { modernHeaders, modernRequest, openSession, postMcp, type RawResponse } from './support/raw-http.js'

const HEADER_MISMATCH = -32020

function errorOf(response: RawResponse): { code: number; message: string } {
  const parsed: unknown = JSON.parse(response.text)
  assert.ok(typeof parsed === 'object' && parsed !== null && 'error' in parsed, response.text)
  const error = parsed.error
  assert.ok(typeof error === 'object' && error !== null && 'code' in error && 'message' in error, 'expected: typeof error === \'object\' && error !== null && \'code\' in error && \'message\' in error')
  assert.ok(typeof error.code === 'number' && typeof error.message === 'string', 'expected: typeof error.code === \'number\' && typeof error.message === \'string\'')
  return { code: error.code, message: error.message }
}

describe('standard headers on the 2026-07-28 lane: refused with 400 when they disagree with the body', () => {
  let e2e: E2E
  let token: string
  const whoami = () => modernRequest(7, 'tools/call', { name: 'whoami', arguments: {} })
  const callsBy = async (sub: string) =>
    (await readFile(e2e.auditPath, 'utf8')).split('\n').filter((line) => line.includes('"type":"tools.call"') && line.includes(`"sub":"${sub}"`)).length

  before(async () => {
    e2e = await startE2E()
    token = await e2e.token('alice', ['dba'])
  })
  after(() => e2e.close())

  const cases: Array<{ name: string; body: () => Record<string, unknown>; headers: () => Record<string, string>; code: number }> = [
    { name: 'Mcp-Method names another method than the body', body: whoami, headers: () => modernHeaders(token, 'tools/list', 'whoami'), code: HEADER_MISMATCH },
    { name: 'Mcp-Name names another tool than the body', body: whoami, headers: () => modernHeaders(token, 'tools/call', 'list_connections'), code: HEADER_MISMATCH },
    { name: 'Mcp-Name differs only in case', body: whoami, headers: () => modernHeaders(token, 'tools/call', 'WHOAMI'), code: HEADER_MISMATCH },
    { name: 'Mcp-Name is missing on tools/call', body: whoami, headers: () => modernHeaders(token, 'tools/call'), code: HEADER_MISMATCH },
    { name: 'Mcp-Method is missing', body: whoami, headers: () => ({ authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-name': 'whoami' }), code: HEADER_MISMATCH },
    { name: 'MCP-Protocol-Version says 2025-11-25 while _meta says 2026-07-28', body: whoami, headers: () => ({ ...modernHeaders(token, 'tools/call', 'whoami'), 'mcp-protocol-version': '2025-11-25' }), code: HEADER_MISMATCH },
    { name: 'MCP-Protocol-Version is missing', body: whoami, headers: () => ({ authorization: `Bearer ${token}`, 'mcp-method': 'tools/call', 'mcp-name': 'whoami' }), code: HEADER_MISMATCH },
  ]

  for (const testCase of cases) {
    it(`${testCase.name}: 400, and the tool never runs`, async () => {
      const before = await callsBy('alice')
      const response = await postMcp(e2e.gateway.resource, testCase.body(), testCase.headers())
      assert.equal(response.status, 400, response.text)
      assert.equal(errorOf(response).code, testCase.code)
      assert.equal(await callsBy('alice'), before)
    })
  }

  it('the same request with agreeing headers is served (so the refusals above are about the headers)', async () => {
    const response = await postMcp(e2e.gateway.resource, whoami(), modernHeaders(token, 'tools/call', 'whoami'))
    assert.equal(response.status, 200, response.text)
    assert.match(response.text, /"subject":"alice"/)
  })

  it('a 2026-07-28 header on a body without the envelope is refused, not served as 2025', async () => {
    const response = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }, modernHeaders(token, 'tools/list'))
    assert.equal(response.status, 400, response.text)
  })

  it('an envelope naming a revision the gateway does not serve is refused with the supported list', async () => {
    const body = modernRequest(4, 'tools/list')
    const response = await postMcp(e2e.gateway.resource, { ...body, params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2027-01-01' } } }, { ...modernHeaders(token, 'tools/list'), 'mcp-protocol-version': '2027-01-01' })
    assert.equal(response.status, 400, response.text)
    assert.match(response.text, /2026-07-28/)
  })

  it('a modern request smuggling the caller’s own live Mcp-Session-Id is refused with 400', async () => {
    const sessionId = await openSession(e2e.gateway.resource, token)
    const before = await callsBy('alice')
    const response = await postMcp(e2e.gateway.resource, whoami(), { ...modernHeaders(token, 'tools/call', 'whoami'), 'mcp-session-id': sessionId })
    assert.equal(response.status, 400, response.text)
    assert.match(errorOf(response).message, /must not carry Mcp-Session-Id/)
    assert.equal(await callsBy('alice'), before)
  })

  it('a modern request with an unknown Mcp-Session-Id is refused with 400, not 404', async () => {
    const response = await postMcp(e2e.gateway.resource, modernRequest(5, 'tools/list'), { ...modernHeaders(token, 'tools/list'), 'mcp-session-id': 'forged' })
    assert.equal(response.status, 400, response.text)
  })

  it('a 2025 session request whose Mcp-Method disagrees with its body is refused', async () => {
    const sessionId = await openSession(e2e.gateway.resource, token)
    const before = await callsBy('alice')
    const response = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, {
      authorization: `Bearer ${token}`,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-06-18',
      'mcp-method': 'tools/list',
    })
    assert.equal(response.status, 400, response.text)
    assert.equal(await callsBy('alice'), before)
  })
})

describe('standard headers on the 2025 lane', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  it('agreeing Mcp-Method/Mcp-Name on a session request are fine; a disagreeing Mcp-Name is refused', async () => {
    const token = await e2e.token('alice', ['dba'])
    const sessionId = await openSession(e2e.gateway.resource, token)
    const headers = { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18', 'mcp-method': 'tools/call' }
    const body = { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'whoami', arguments: {} } }
    const agreeing = await postMcp(e2e.gateway.resource, body, { ...headers, 'mcp-name': 'whoami' })
    assert.equal(agreeing.status, 200, agreeing.text)
    assert.match(agreeing.text, /"subject":"alice"/)
    const disagreeing = await postMcp(e2e.gateway.resource, body, { ...headers, 'mcp-name': 'list_connections' })
    assert.equal(disagreeing.status, 400, disagreeing.text)
    assert.equal(errorOf(disagreeing).code, HEADER_MISMATCH)
  })
})
