import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { INITIALIZE, openSession, postMcp, sessionHeaders } from '../e2e/support/raw-http.js'
import { startE2E, type E2E } from '../e2e/support/start-e2e.js'

const INITIALIZED = { jsonrpc: '2.0', method: 'notifications/initialized' } as const
const PING = { jsonrpc: '2.0', id: 9, method: 'ping' } as const

async function sessionStarts(path: string): Promise<number> {
  const text = await readFile(path, 'utf8')
  return text.split('\n').filter((line) => line.includes('"type":"session.start"')).length
}

/**
 * A 2025-lane session exists only once its initialize request is accepted: a refused initialize
 * leaves no session id, no `session.start` record, and takes no place under the caller's cap.
 */
describe('a session exists only once its initialize request is accepted', () => {
  let e2e: E2E
  let url: string
  let token: string
  before(async () => {
    e2e = await startE2E({ config: { sessions: { idleTimeoutSeconds: 600, maxPerSubject: 2, maxTotal: 100 } } })
    url = e2e.gateway.resource
    token = await e2e.token('carol', ['dba'])
  })
  after(() => e2e?.close())

  const refused: Array<[string, unknown, Record<string, string>, number]> = [
    ['initialize inside a batch with another request', [INITIALIZE, PING], {}, 400],
    ['initialize inside a batch with a notification', [INITIALIZE, INITIALIZED], {}, 400],
    ['initialize alone inside a batch', [INITIALIZE], {}, 400],
    ['two initialize requests in one batch', [INITIALIZE, { ...INITIALIZE, id: 2 }], {}, 400],
    ['an Accept header without text/event-stream', INITIALIZE, { accept: 'application/json' }, 406],
    ['an Accept header without application/json', INITIALIZE, { accept: 'text/event-stream' }, 406],
    ['no usable Accept header', INITIALIZE, { accept: '*/*' }, 406],
    ['a Content-Type that is not JSON', INITIALIZE, { 'content-type': 'text/plain' }, 415],
    // With an Authorization header, a form body is a second place for a token (RFC 6750 §2.2): 400 invalid_request.
    ['a form Content-Type', INITIALIZE, { 'content-type': 'application/x-www-form-urlencoded' }, 400],
  ]

  for (const [name, body, headers, status] of refused) {
    it(`refuses ${name} with ${status} and opens nothing`, async () => {
      const before = await sessionStarts(e2e.auditPath)
      const sessionsBefore = await e2e.gateway.gateway.sessions.count()
      const response = await postMcp(url, body, { authorization: `Bearer ${token}`, ...headers })
      assert.equal(response.status, status, response.text)
      assert.equal(response.headers.get('mcp-session-id'), null, 'no session id is handed out')
      assert.equal(await sessionStarts(e2e.auditPath), before, 'no session.start is recorded')
      assert.equal(await e2e.gateway.gateway.sessions.count(), sessionsBefore, 'no session is stored')
    })
  }

  it('lets refused attempts evict nothing: the caller’s earlier sessions stay usable', async () => {
    const first = await openSession(url, token)
    const second = await openSession(url, token)
    for (const [, body, headers] of refused) await postMcp(url, body, { authorization: `Bearer ${token}`, ...headers })
    for (const id of [first, second]) {
      const ping = await postMcp(url, PING, sessionHeaders(token, id))
      assert.equal(ping.status, 200, `session ${id.slice(0, 6)}… survived the refused attempts`)
    }
  })

  it('refuses initialize on an existing session instead of renegotiating it', async () => {
    const id = await openSession(url, token)
    for (const version of ['2025-06-18', '2025-03-26', '2024-11-05']) {
      const again = { ...INITIALIZE, id: 5, params: { ...INITIALIZE.params, protocolVersion: version } }
      const response = await postMcp(url, again, sessionHeaders(token, id))
      assert.equal(response.status, 400, `re-initialize at ${version}`)
      assert.match(response.text, /already initialized/)
    }
    const inBatch = await postMcp(url, [PING, INITIALIZE], sessionHeaders(token, id))
    assert.equal(inBatch.status, 400, 'initialize hidden in a batch on a live session')
    assert.equal((await postMcp(url, PING, sessionHeaders(token, id))).status, 200, 'the session itself is untouched')
  })
})
