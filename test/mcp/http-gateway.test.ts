import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { INITIALIZE, openSession, postMcp, sessionHeaders } from '../e2e/support/raw-http.js'
import { ALLOWED_ORIGIN, startE2E, type E2E } from '../e2e/support/start-e2e.js'
import { startMcpGateway, type McpGateway } from './support/start-mcp-gateway.js'

interface Raw {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
}

/** A request with full control of method, Host and body (fetch cannot set Host). */
function raw(url: string, method: string, headers: Record<string, string>, body?: string | Buffer): Promise<Raw> {
  const target = new URL(url)
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }))
    })
    // The gateway may answer (413) and stop reading before the body is sent.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)))
    req.end(body)
  })
}

function rpcError(text: string): { code: number; message: string } {
  const parsed: unknown = JSON.parse(text)
  assert.ok(typeof parsed === 'object' && parsed !== null && 'error' in parsed, 'expected: typeof parsed === \'object\' && parsed !== null && \'error\' in parsed')
  const error = parsed.error
  assert.ok(typeof error === 'object' && error !== null && 'code' in error && 'message' in error, 'expected: typeof error === \'object\' && error !== null && \'code\' in error && \'message\' in error')
  return { code: Number(error.code), message: String(error.message) }
}

async function auditLines(path: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('every branch of the /mcp handler, through real HTTP against the real gateway', () => {
  let e2e: E2E
  let url: string
  let host: string
  let token: string
  before(async () => {
    e2e = await startE2E({ config: { sessions: { idleTimeoutSeconds: 600, maxPerSubject: 4, maxTotal: 3 } } })
    url = e2e.gateway.resource
    host = new URL(url).host
    token = await e2e.token('alice', ['dba'])
  })
  after(() => e2e.close())
  const auth = () => ({ host, authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' })

  it('refuses a Host it does not serve before anything else (403, no auth asked)', async () => {
    for (const bad of ['attacker.example', `${host}.attacker.example`, 'localhost:1']) {
      const response = await raw(url, 'POST', { ...auth(), host: bad }, JSON.stringify(INITIALIZE))
      assert.equal(response.status, 403, bad)
      assert.match(response.text, /Host not allowed/)
      assert.equal(response.headers['www-authenticate'], undefined)
    }
  })

  it('refuses a foreign Origin (403) and adds CORS headers for an allowed one', async () => {
    const refused = await raw(url, 'POST', { ...auth(), origin: 'http://evil.example' }, JSON.stringify(INITIALIZE))
    assert.equal(refused.status, 403)
    assert.match(refused.text, /Origin not allowed/)
    const allowed = await raw(url, 'POST', { ...auth(), origin: ALLOWED_ORIGIN }, JSON.stringify(INITIALIZE))
    assert.equal(allowed.status, 200)
    assert.equal(allowed.headers['access-control-allow-origin'], ALLOWED_ORIGIN)
  })

  it('answers an OPTIONS preflight (204) without a token', async () => {
    const response = await raw(url, 'OPTIONS', { host, origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' })
    assert.equal(response.status, 204)
    assert.equal(response.headers['access-control-allow-origin'], ALLOWED_ORIGIN)
    assert.match(String(response.headers['access-control-allow-methods']), /POST/)
    assert.match(String(response.headers['access-control-allow-headers']), /Mcp-Session-Id/)
    const foreign = await raw(url, 'OPTIONS', { host, origin: 'http://evil.example' })
    assert.equal(foreign.status, 403)
  })

  it('asks for a token before it says anything about the method (401, then 405 with Allow)', async () => {
    const anonymous = await raw(url, 'PUT', { host }, '{}')
    assert.equal(anonymous.status, 401)
    for (const method of ['PUT', 'PATCH']) {
      const response = await raw(url, method, auth(), '{}')
      assert.equal(response.status, 405, method)
      assert.equal(response.headers.allow, 'GET, POST, DELETE, OPTIONS')
      assert.equal(rpcError(response.text).code, -32000)
    }
  })

  it('refuses a body over the cap (413), declared or streamed', async () => {
    const big = JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, pad: 'x'.repeat(1024 * 1024) } })
    const declared = await raw(url, 'POST', { ...auth(), 'content-length': String(Buffer.byteLength(big)) }, big)
    assert.equal(declared.status, 413)
    const chunked = await raw(url, 'POST', { ...auth(), 'transfer-encoding': 'chunked' }, big)
    assert.equal(chunked.status, 413)
    assert.match(rpcError(chunked.text).message, /exceeds 1048576 bytes/)
  })

  it('refuses a body that is not JSON (400, JSON-RPC parse error)', async () => {
    for (const body of ['{"jsonrpc":', 'not json', '']) {
      const response = await raw(url, 'POST', auth(), body)
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.equal(rpcError(response.text).code, -32700)
    }
  })

  it('refuses anything but initialize without a session (400)', async () => {
    const list = await raw(url, 'POST', auth(), JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }))
    assert.equal(list.status, 400)
    assert.match(rpcError(list.text).message, /no session; send initialize first/)
    const get = await raw(url, 'GET', auth())
    assert.equal(get.status, 400)
    assert.equal(get.headers['mcp-session-id'], undefined)
  })

  it('serves a session: GET has no stream (405), DELETE ends it, then 404; unknown ids are 404', async () => {
    const id = await openSession(url, token)
    const get = await raw(url, 'GET', { ...auth(), ...sessionHeaders(token, id) })
    assert.equal(get.status, 405)
    assert.equal(get.headers.allow, 'POST, DELETE')
    const deleted = await raw(url, 'DELETE', { ...auth(), ...sessionHeaders(token, id) })
    assert.equal(deleted.status, 200)
    const after = await postMcp(url, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionHeaders(token, id))
    assert.equal(after.status, 404)
    const unknown = await postMcp(url, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionHeaders(token, 'no-such-session'))
    assert.equal(unknown.status, 404)
    assert.equal(rpcError(unknown.text).code, -32001)
  })

  it('serves POSTs in the caller’s own session, takes cancellations, and records a foreign token’s attempt (404)', async () => {
    const id = await openSession(url, token)
    const list = await postMcp(url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, sessionHeaders(token, id))
    assert.equal(list.status, 200)
    assert.match(list.text, /whoami/)
    const cancelled = await postMcp(url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99, reason: 'test' } }, sessionHeaders(token, id))
    assert.equal(cancelled.status, 202)
    const mallory = await e2e.token('mallory', ['dba'])
    const hijack = await postMcp(url, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, sessionHeaders(mallory, id))
    assert.equal(hijack.status, 404)
    const rejected = (await auditLines(e2e.auditPath)).filter((l) => l.type === 'session.rejected')
    assert.equal((rejected.at(-1)?.actor as { sub?: string } | undefined)?.sub, 'mallory')
    assert.ok(!JSON.stringify(rejected).includes(id), 'only the hash of the id is recorded')
    await raw(url, 'DELETE', { ...auth(), ...sessionHeaders(token, id) })
  })

  it('answers 503 at the session limit, closing the session it did not keep and recording nothing for it', async () => {
    // maxTotal is 3: fill what is left.
    const before = (await auditLines(e2e.auditPath)).filter((l) => l.type === 'session.start').length
    let status = 200
    let opened = 0
    for (let i = 0; i < 4 && status === 200; i++) {
      const response = await postMcp(url, INITIALIZE, { authorization: `Bearer ${await e2e.token(`filler-${i}`, ['dba'])}` })
      status = response.status
      if (status === 200) opened++
      else {
        assert.equal(status, 503)
        assert.match(rpcError(response.text).message, /session limit/)
        assert.equal(response.headers.get('mcp-session-id'), null)
      }
    }
    assert.equal(status, 503)
    assert.equal(await e2e.gateway.gateway.sessions.count(), 3)
    assert.equal((await auditLines(e2e.auditPath)).filter((l) => l.type === 'session.start').length, before + opened)
  })

  it('serves /healthz, RFC 9728 metadata, and 404 for every other path or method', async () => {
    const health = await raw(`${e2e.gateway.origin}/healthz`, 'GET', { host })
    assert.equal(health.status, 200)
    assert.deepEqual(JSON.parse(health.text), { status: 'ok' })
    const metadata = await raw(`${e2e.gateway.origin}/.well-known/oauth-protected-resource/mcp`, 'GET', { host })
    assert.equal(metadata.status, 200)
    for (const [path, method] of [['/', 'GET'], ['/mcp/x', 'POST'], ['/healthz', 'POST'], ['/.well-known/oauth-protected-resource', 'POST'], ['/admin', 'GET']] as const) {
      const response = await raw(`${e2e.gateway.origin}${path}`, method, { host })
      assert.equal(response.status, 404, `${method} ${path}`)
      assert.deepEqual(JSON.parse(response.text), { error: 'not_found' })
    }
  })
})

describe('the 500 catch-all', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  it('answers 500 with a bare JSON-RPC internal error when a step fails unexpectedly (here: the audit log is closed)', async () => {
    const token = await e2e.token('alice', ['dba'])
    await e2e.gateway.audit.close()
    const response = await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${token}` })
    assert.equal(response.status, 500)
    assert.deepEqual(JSON.parse(response.text), { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error.' }, id: null })
    assert.equal(response.headers.get('mcp-session-id'), null, 'no session is handed out that was never recorded')
    assert.ok(!response.text.includes(e2e.dir), 'expected: !response.text.includes(e2e.dir)')
  })
})

describe('/healthz reflects the health function (the audit log’s, once wired)', () => {
  let gateway: McpGateway
  let health: { ok: boolean; reason?: string } | Error = { ok: true }
  before(async () => {
    gateway = await startMcpGateway({
      policy: { version: 1, connections: {}, grants: [] },
      health: () => {
        if (health instanceof Error) throw health
        return health
      },
    })
  })
  after(() => gateway.close())
  const get = () => raw(`${gateway.origin}/healthz`, 'GET', { host: new URL(gateway.origin).host })

  it('200 while ok, 503 with the fixed reason code while not, and back', async () => {
    assert.equal((await get()).status, 200)
    health = { ok: false, reason: 'audit_unavailable' }
    const down = await get()
    assert.equal(down.status, 503)
    assert.deepEqual(JSON.parse(down.text), { status: 'unavailable', reason: 'audit_unavailable' })
    assert.equal(down.headers['cache-control'], 'no-store')
    health = { ok: true }
    assert.equal((await get()).status, 200)
  })

  it('never passes on internal detail, and reads a throwing check as unavailable', async () => {
    health = { ok: false, reason: 'EACCES: permission denied, open /var/log/airlock/audit.jsonl' }
    assert.deepEqual(JSON.parse((await get()).text), { status: 'unavailable', reason: 'unavailable' })
    health = { ok: false }
    assert.deepEqual(JSON.parse((await get()).text), { status: 'unavailable', reason: 'unavailable' })
    health = new Error('ENOSPC /var/log/airlock')
    const thrown = await get()
    assert.equal(thrown.status, 503)
    assert.doesNotMatch(thrown.text, /ENOSPC|var\/log/)
  })
})
