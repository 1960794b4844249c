import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { startE2E, type E2E } from './support/start-e2e.js'
import { modernHeaders, modernRequest, openSession, postMcp, sessionHeaders } from './support/raw-http.js'

/** `arguments` values that are not a JSON object, as JSON text (parsed per use, so the clients send them as is). */
const NON_OBJECT_ARGUMENTS: readonly (readonly [string, string])[] = [
  ['a string', '"whoami"'],
  ['an empty string', '""'],
  ['a number', '42'],
  ['zero', '0'],
  ['an array of objects', '[{"connection":"db"}]'],
  ['an empty array', '[]'],
  ['null', 'null'],
  ['true', 'true'],
  ['false', 'false'],
]

const kindOf = (json: string): string => {
  const value: unknown = JSON.parse(json)
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

/** The fixed INPUT_INVALID reply, as the content array of a tool result. */
const INVALID_REPLY = (kind: string) => new RegExp(`^\\[INPUT_INVALID\\] The tool arguments are invalid\\. \\(arguments\\): expected an object, received ${kind} \\(correlation id [0-9a-f]{12}\\)$`)

function contentText(result: object): string {
  const content: unknown = Reflect.get(result, 'content')
  assert.ok(Array.isArray(content) && content.length === 1, `one content item: ${JSON.stringify(result)}`)
  const [item]: unknown[] = content
  assert.ok(typeof item === 'object' && item !== null && 'text' in item && typeof item.text === 'string', 'a text item')
  return item.text
}

/** The JSON-RPC message of a response: plain JSON, or the last `data:` frame of an SSE stream. */
function rpcMessage(text: string): Record<string, unknown> {
  const frames = text.split('\n').filter((line) => line.startsWith('data:'))
  const parsed: unknown = JSON.parse(frames.length > 0 ? (frames.at(-1) ?? '').slice(5) : text)
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), 'a JSON-RPC message')
  return Object.fromEntries(Object.entries(parsed))
}

describe('tools/call with arguments that are not an object: INPUT_INVALID on both lanes, never a validation dump', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  for (const [name, json] of NON_OBJECT_ARGUMENTS) {
    it(`${name}: the v1 SDK client on the 2025 lane gets the fixed INPUT_INVALID result`, async () => {
      const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
      const result = await client.callTool({ name: 'whoami', arguments: JSON.parse(json) })
      assert.equal(result.isError, true, JSON.stringify(result))
      assert.match(contentText(result), INVALID_REPLY(kindOf(json)))
      await client.close()
    })

    it(`${name}: the v2 SDK client on the 2026-07-28 lane gets the fixed INPUT_INVALID result`, async () => {
      const client = await e2e.connectModern(await e2e.token('alice', ['dba']))
      const result = await client.callTool({ name: 'whoami', arguments: JSON.parse(json) })
      assert.equal(result.isError, true, JSON.stringify(result))
      assert.match(contentText(result), INVALID_REPLY(kindOf(json)))
    })
  }

  it('refuses before the policy is asked: an ungranted caller and an unknown tool get the same answer', async () => {
    const mallory = await e2e.connectModern(await e2e.token('mallory', []))
    assert.match(contentText(await mallory.callTool({ name: 'whoami', arguments: JSON.parse('"x"') })), INVALID_REPLY('string'))
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    assert.match(contentText(await client.callTool({ name: 'drop_database', arguments: JSON.parse('[1]') })), INVALID_REPLY('array'))
  })

  it('on the wire: a tool result, not a JSON-RPC error (-32602/-32603) quoting the schema', async () => {
    const token = await e2e.token('alice', ['dba'])
    const sessionId = await openSession(e2e.gateway.resource, token)
    const legacy = await postMcp(e2e.gateway.resource, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami', arguments: 'x' } }, sessionHeaders(token, sessionId))
    const modern = await postMcp(e2e.gateway.resource, modernRequest(8, 'tools/call', { name: 'whoami', arguments: null }), modernHeaders(token, 'tools/call', 'whoami'))
    for (const response of [legacy, modern]) {
      assert.equal(response.status, 200, response.text)
      const message = rpcMessage(response.text)
      assert.equal(message.error, undefined, response.text)
      assert.doesNotMatch(response.text, /expected record|invalid_type|"path"/)
      assert.match(contentText(Object(message.result)), /^\[INPUT_INVALID\]/)
    }
  })

  it('leaves objects and absent arguments alone', async () => {
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    assert.equal((await client.callTool({ name: 'whoami', arguments: {} })).isError, undefined)
    assert.equal((await client.callTool({ name: 'whoami' })).isError, undefined)
    const modern = await e2e.connectModern(await e2e.token('alice', ['dba']))
    assert.equal((await modern.callTool({ name: 'whoami' })).isError, undefined)
    // An object whose only key looks like the gateway's wrapping is just an unknown argument.
    const lookalike = await modern.callTool({ name: 'whoami', arguments: { 'airlock-arguments-000000000000000000000000': 'x' } })
    assert.match(contentText(lookalike), /^\[INPUT_INVALID\] The tool arguments are invalid\. (?!\(arguments\): expected an object)/)
  })

  it('audits the refusal with its reason and no grant', async () => {
    e2e.clock.advance(60_000)
    const client = await e2e.connectModern(await e2e.token('carol', ['dba']))
    await client.callTool({ name: 'whoami', arguments: JSON.parse('123') })
    const records = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((line) => rpcMessage(line))
    const call = records.filter((r) => r.type === 'tools.call' && Object(r.actor).sub === 'carol').at(-1)
    assert.ok(call !== undefined, 'a tools.call record for carol')
    assert.equal(call.code, 'INPUT_INVALID')
    assert.equal(call.decision, 'deny')
    assert.equal(call.reason, '(arguments): expected an object, received number')
    assert.equal(call.grantId, undefined)
  })
})
