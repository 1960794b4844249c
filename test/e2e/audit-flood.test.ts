import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import { defineTool, type AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { startE2E, type E2E } from './support/start-e2e.js'

type Line = Record<string, unknown> & { actor?: { sub?: string }; detail?: Record<string, unknown> }
type ToolResult = { isError?: boolean; content: { type: string; text: string }[] }

/** A granted tool whose arguments the caller fills freely: the worst case for `args` in the record. */
const echo = defineTool({
  name: 'echo',
  title: 'Echo',
  description: 'Returns how many values it was given.',
  connectionKinds: [],
  input: { text: z.string().optional(), values: z.record(z.string(), z.unknown()).optional() },
  annotations: () => ({ readOnlyHint: true, destructiveHint: false }),
  async handler({ args }) {
    return { text: `${Object.keys(args.values ?? {}).length} values` }
  },
})

const KIB = 1024
// A deny record holds two capped names (≤ ~600 bytes each) plus fixed fields; any record at most the args cap plus that.
const MAX_DENY_RECORD = 2 * KIB
const MAX_RECORD = 12 * KIB

describe('caller-controlled strings cannot grow audit records or replies, and denials are sampled per identity', () => {
  let e2e: E2E
  let lines: Line[] = []
  before(async () => {
    e2e = await startE2E({
      tools: [...registeredTools, echo as unknown as AnyToolDefinition],
      policy: {
        version: 1,
        connections: { orders: { kind: 'rds-data', region: 'us-east-1', engine: 'postgres', database: 'test', resourceArn: 'arn:aws:rds:us-east-1:111122223333:cluster:x', secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:x-Ab12Cd' } },
        grants: [
          { id: 'echo', groups: ['dev'], tools: ['echo', 'whoami'] },
          { id: 'sql', groups: ['dev'], tools: ['sql_query'], connections: ['orders'] },
        ],
      },
    })
  })
  after(() => e2e.close())

  /** A fresh identity-local session; the clock moves past the sampling window so each denial here is recorded. */
  async function callAs(sub: string, name: string, args: Record<string, unknown>, nextWindow = true): Promise<ToolResult> {
    if (nextWindow) e2e.clock.advance(10_000)
    const { client } = await e2e.connect(await e2e.token(sub, ['dev']))
    const result = (await client.callTool({ name, arguments: args })) as ToolResult
    await client.close()
    return result
  }
  const replyText = (result: ToolResult) => result.content.map((c) => c.text).join('\n')
  const read = async () =>
    (await readFile(e2e.auditPath, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => ({ bytes: Buffer.byteLength(line), record: JSON.parse(line) as Line }))
  const callsOf = async (sub: string) => (await read()).filter((l) => l.record.type === 'tools.call' && l.record.actor?.sub === sub)

  it('huge tool names: records and replies stay bounded and identify the name by length and hash', async () => {
    for (const size of [129, 1 * KIB, 64 * KIB, 500 * KIB, 900 * KIB]) {
      const name = `t${'x'.repeat(size - 1)}`
      const result = await callAs('names', name, {})
      assert.equal(result.isError, true)
      // An unknown name is first of all one the caller holds no grant for.
      assert.match(replyText(result), /\[POLICY_DENIED\]/)
      assert.ok(replyText(result).length < KIB, `reply for a ${size}-char name is ${replyText(result).length} chars`)
      const record = (await callsOf('names')).at(-1)
      assert.ok(record !== undefined, 'expected: record !== undefined')
      assert.ok(record.bytes < MAX_DENY_RECORD, `record for a ${size}-char name is ${record.bytes} bytes`)
      assert.match(String(record.record.tool), new RegExp(`altered: ${size} chars, sha256 [0-9a-f]{16}\\]$`))
      assert.equal(record.record.reason, 'NO_GRANT')
    }
  })

  it('huge connection names: recorded and echoed capped', async () => {
    for (const size of [129, 2 * KIB, 100 * KIB, 512 * KIB, 900 * KIB]) {
      const connection = 'c'.repeat(size)
      for (const tool of ['sql_query', 'whoami']) {
        const result = await callAs('connections', tool, { connection, sql: 'SELECT 1' })
        assert.match(replyText(result), /\[POLICY_DENIED\]/)
        assert.ok(replyText(result).length < KIB, `reply ${replyText(result).length} chars`)
        const record = (await callsOf('connections')).at(-1)
        assert.ok(record !== undefined && record.bytes < MAX_DENY_RECORD, `record ${record?.bytes} bytes`)
        assert.match(String(record.record.connection), new RegExp(`altered: ${size} chars`))
      }
    }
  })

  it('huge argument values, keys and shapes: the args field stays under its cap, the call still runs', async () => {
    const deep: Record<string, unknown> = {}
    let cursor = deep
    for (let i = 0; i < 50; i++) cursor = (cursor.next = { pad: 'p'.repeat(1000) }) as Record<string, unknown>
    const cases: Record<string, unknown>[] = [
      { text: 'v'.repeat(900 * KIB) },
      { values: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key${i}`, 'v'.repeat(100)])) },
      { values: { ['k'.repeat(500 * KIB)]: 1 } },
      { values: { deep } },
      { values: { list: Array.from({ length: 10_000 }, (_, i) => `item-${i}-${'z'.repeat(50)}`) } },
    ]
    for (const args of cases) {
      const result = await callAs('values', 'echo', args)
      assert.equal(result.isError, undefined, replyText(result))
      const record = (await callsOf('values')).at(-1)
      assert.ok(record !== undefined, 'expected: record !== undefined')
      assert.equal(record.record.outcome, 'ok')
      assert.ok(record.bytes < MAX_RECORD, `record ${record.bytes} bytes`)
      assert.match(String(record.record.argsHash), /^[0-9a-f]{64}$/)
    }
    // Unknown keys are refused, and the refusal's reason (which names them) is capped too.
    const refused = await callAs('values', 'echo', { ['u'.repeat(700 * KIB)]: 1 })
    assert.match(replyText(refused), /\[INPUT_INVALID\]/)
    assert.ok(replyText(refused).length < KIB, 'expected: replyText(refused).length < KIB')
    const record = (await callsOf('values')).at(-1)
    assert.ok(record !== undefined && record.bytes < MAX_DENY_RECORD, `record ${record?.bytes} bytes`)
  })

  it('control, bidi, zero-width and lone-surrogate characters never reach a record or a reply as is', async () => {
    const hostile = ['evil\u0000name', 'red\u001b[31mtext\u001b[0m', 'file\u202Egnp.exe', 'zero\u200Bwidth\uFEFF', 'lone\uD800half', 'line\r\nbreak\u0085']
    for (const name of hostile) {
      const result = await callAs('unicode', name, { connection: name })
      const text = replyText(result)
      assert.doesNotMatch(text, /[\u0000-\u001f\u007f-\u009f\u200b\u202e\ufeff\ud800]/u, JSON.stringify(text))
      const record = (await callsOf('unicode')).at(-1)
      assert.ok(record !== undefined, 'expected: record !== undefined')
      for (const field of [record.record.tool, record.record.connection]) {
        assert.doesNotMatch(String(field), /[\u0000-\u001f\u007f-\u009f\u200b\u202e\ufeff]/u)
        assert.doesNotMatch(String(field), /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, 'no lone surrogates')
        assert.match(String(field), /altered: \d+ chars, sha256/)
      }
    }
    const plain = await callAs('unicode', 'whoami', {})
    assert.equal(plain.isError, undefined, 'ordinary names pass unaltered')
    assert.equal((await callsOf('unicode')).at(-1)?.record.tool, 'whoami')
  })

  it('a deny flood from one identity writes one record per window carrying an exact count', async () => {
    e2e.clock.advance(10_000)
    const { client } = await e2e.connect(await e2e.token('flooder', ['dev']))
    const sent = 300
    for (let i = 0; i < sent; i++) await client.callTool({ name: 'sql_query', arguments: { connection: 'nope', sql: 'SELECT 1' } })
    const records = await callsOf('flooder')
    assert.equal(records.length, 1, 'one record for the window')
    e2e.clock.advance(10_000)
    await client.callTool({ name: 'sql_query', arguments: { connection: 'nope', sql: 'SELECT 1' } })
    const next = (await callsOf('flooder')).at(-1)?.record
    assert.equal(next?.detail?.suppressedSinceLastRecord, sent - 1, 'the next window’s record counts the previous one exactly')
    await client.close()
  })

  it('many distinct tool names from one identity are one sampled flood, not one record each', async () => {
    e2e.clock.advance(10_000)
    const { client } = await e2e.connect(await e2e.token('prober', ['dev']))
    for (let i = 0; i < 200; i++) await client.callTool({ name: `probe_${i}_${'q'.repeat(i * 10)}`, arguments: {} })
    assert.equal((await callsOf('prober')).length, 1)
    await client.close()
  })

  it('a flood across identities: one record per identity per window, and after close every denial is accounted for exactly', async () => {
    e2e.clock.advance(10_000)
    const subs = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']
    const sent = new Map<string, number>()
    await Promise.all(
      subs.map(async (sub, index) => {
        const { client } = await e2e.connect(await e2e.token(sub, []))
        const n = 20 + index * 7
        for (let i = 0; i < n; i++) await client.callTool({ name: 'list_connections', arguments: {} })
        sent.set(sub, n)
        await client.close()
      }),
    )
    for (const sub of subs) assert.equal((await callsOf(sub)).length, 1, sub)
    // A timer flush after the window writes the counts of identities that went quiet.
    e2e.clock.advance(10_000)
    await e2e.gateway.gateway.flushAuditSamples('ended')
    for (const sub of subs) {
      const records = await callsOf(sub)
      const counted = records.reduce((sum, l) => sum + (l.record.reason === 'sampled' ? 0 : 1) + Number(l.record.detail?.suppressedSinceLastRecord ?? 0), 0)
      assert.equal(counted, sent.get(sub), sub)
    }
    // A flood whose window is still open when the gateway stops: shutdown writes its count.
    const last = await e2e.connect(await e2e.token('last', []))
    for (let i = 0; i < 40; i++) await last.client.callTool({ name: 'list_connections', arguments: {} })
    await last.client.close()
    assert.equal((await callsOf('last')).length, 1)
    await e2e.gateway.close()
    lines = (await read()).map((l) => l.record)
    const prober = lines.filter((l) => l.type === 'tools.call' && l.actor?.sub === 'prober')
    assert.equal(prober.reduce((sum, l) => sum + (l.reason === 'sampled' ? 0 : 1) + Number(l.detail?.suppressedSinceLastRecord ?? 0), 0), 200)
    const flooder = lines.filter((l) => l.type === 'tools.call' && l.actor?.sub === 'flooder')
    assert.equal(flooder.reduce((sum, l) => sum + (l.reason === 'sampled' ? 0 : 1) + Number(l.detail?.suppressedSinceLastRecord ?? 0), 0), 301)
    const lastCalls = lines.filter((l) => l.type === 'tools.call' && l.actor?.sub === 'last')
    assert.equal(lastCalls.length, 2, 'the sampled record and the shutdown summary')
    assert.equal(lastCalls.reduce((sum, l) => sum + (l.reason === 'sampled' ? 0 : 1) + Number(l.detail?.suppressedSinceLastRecord ?? 0), 0), 40)
    const biggest = Math.max(...(await read()).map((l) => l.bytes))
    assert.ok(biggest < MAX_RECORD, `largest record ${biggest} bytes`)
  })
})
