import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { generateKeyPair } from 'jose'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import { createLogger } from '../../src/cli/logger.js'
import { systemClock } from '../../src/clock.js'
import { createPgBackend } from '../../src/sandbox/rds-data/pg-backend.js'
import { startRdsDataEmulator } from '../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { defineTool, type AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { createTeardown } from '../support/teardown.js'
import { GATEWAY, KEY, PG_CLUSTER, PG_SECRET } from '../tools/support/sql-query-harness.js'
import { PG_URL } from '../tools/support/sql-test-databases.js'
import { postMcp } from './support/raw-http.js'
import { startE2E, type E2E } from './support/start-e2e.js'

type ToolResult = { isError?: boolean; content: { type: string; text: string }[] }
const logLine = z.looseObject({ level: z.string(), time: z.string(), msg: z.string() })
const SECRET_PARAM = `SECRET-PARAM-${randomBytes(6).toString('hex')}`
const leaked: string[] = []

/** A tool whose library echoes its input in an error, as database drivers and SDKs do. */
const leaky = defineTool({
  name: 'leaky',
  title: 'Leaky',
  description: 'Fails with its input in the message.',
  connectionKinds: [],
  input: { value: z.string() },
  annotations: () => ({ readOnlyHint: true, destructiveHint: false }),
  async handler({ args }) {
    throw new Error(`driver failed on ${args.value} while sending ${leaked.join(' ')}`)
  },
})

describe('no token, secret or SQL parameter reaches the log, and calls are logged by correlation id', () => {
  const teardown = createTeardown()
  const lines: string[] = []
  let e2e: E2E

  before(async () => {
    const backend = createPgBackend({ connectionString: PG_URL })
    teardown.add(() => backend.close())
    const emulator = await startRdsDataEmulator({
      store: createCredentialStore([{ ...KEY, principalArn: GATEWAY }]),
      trail: createTrail(systemClock),
      clock: systemClock,
      clusters: [{ resourceArn: PG_CLUSTER, secrets: { [PG_SECRET]: { backend } } }],
    })
    teardown.add(() => emulator.close())
    e2e = await startE2E({
      startMs: Date.now(),
      tools: [...registeredTools, leaky as unknown as AnyToolDefinition],
      awsCredentials: async () => KEY,
      config: { awsEndpoints: { rdsData: emulator.endpoint } },
      logger: createLogger((line) => lines.push(line), systemClock.now),
      policy: {
        version: 1,
        connections: { db: { kind: 'rds-data', region: 'eu-west-1', engine: 'postgres', database: 'test', resourceArn: PG_CLUSTER, secretArn: PG_SECRET } },
        grants: [
          { id: 'sql', groups: ['data'], tools: ['sql_query'], connections: ['db'] },
          { id: 'leaky', groups: ['data'], tools: ['leaky'] },
        ],
      },
    })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  it('logs a failing SQL call, a failing tool and refused tokens without any of them', async () => {
    const token = await e2e.token('alice', ['data'])
    const { privateKey } = await generateKeyPair('RS256')
    const forged = await e2e.issuer.mint({ aud: e2e.gateway.audience }, { key: privateKey })
    const wrongAudience = await e2e.issuer.mint({ sub: 'alice', aud: 'https://elsewhere.example/mcp' })
    leaked.push(token, KEY.secretAccessKey)
    for (const bad of [forged, wrongAudience, 'not-even-a-jwt']) {
      assert.equal((await postMcp(e2e.gateway.resource, {}, { authorization: `Bearer ${bad}` })).status, 401)
    }

    const { client } = await e2e.connect(token)
    // PostgreSQL quotes the offending value in its error: the tool answers with it, the log must not.
    const sql = (await client.callTool({ name: 'sql_query', arguments: { connection: 'db', sql: 'SELECT CAST(:v AS integer) AS n', parameters: { v: SECRET_PARAM } } })) as ToolResult
    assert.equal(sql.isError, true)
    assert.match(sql.content[0]?.text ?? '', /\[DB_ERROR\]/)
    const sqlId = /correlation id ([0-9a-f]{12})/.exec(sql.content[0]?.text ?? '')?.[1]
    const failed = (await client.callTool({ name: 'leaky', arguments: { value: SECRET_PARAM } })) as ToolResult
    assert.equal(failed.isError, true)
    const leakyId = /correlation id ([0-9a-f]{12})/.exec(failed.content[0]?.text ?? '')?.[1]
    assert.ok(sqlId !== undefined && leakyId !== undefined, 'both replies carry a correlation id')

    const parsed = lines.map((line) => logLine.parse(JSON.parse(line)))
    const text = lines.join('')
    for (const secret of [token, forged, wrongAudience, SECRET_PARAM, KEY.secretAccessKey]) {
      assert.ok(!text.includes(secret), `the log holds ${secret.slice(0, 24)}…`)
    }
    const sqlLine = parsed.find((l) => l.msg === 'tool call' && l.correlationId === sqlId)
    assert.deepEqual({ ...sqlLine, time: '', durationMs: 0 }, { level: 'info', time: '', pid: process.pid, hostname: sqlLine?.hostname, correlationId: sqlId, tool: 'sql_query', outcome: 'error', code: 'DB_ERROR', grantId: 'sql', durationMs: 0, msg: 'tool call' })
    const failure = parsed.find((l) => l.level === 'error' && l.correlationId === leakyId)
    assert.equal(failure?.msg, `tool leaky failed (correlation id ${leakyId})`)
    assert.deepEqual(z.object({ name: z.string(), stack: z.array(z.string()) }).strict().safeParse(failure?.error).success, true, JSON.stringify(failure?.error))

    // The audit trail, not the log, is where an operator finds what went wrong, by correlation id.
    const audit = await readFile(e2e.auditPath, 'utf8')
    assert.match(audit, new RegExp(`"correlationId":"${sqlId}"`))
    assert.ok(!audit.includes(token), 'the audit holds no token either')
  })
})
