import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { postgresAuditTables } from '../../src/audit/postgres-audit-tables.js'
import { verifyPostgresTrail } from '../../src/audit/verify-postgres-trail.js'
import { createScratchSchema, ed25519Pair, type ScratchSchema } from '../audit/support/pg-audit-scratch.js'
import { createTeardown } from '../support/teardown.js'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js'
import { startE2E, type E2E } from './support/start-e2e.js'

type ToolResult = { isError?: boolean; content: { type: string; text: string }[] }

/** The gateway with `audit.sink: "postgres"`, its database reached through a proxy the test can take down. */
describe('gateway on the PostgreSQL audit sink (real PostgreSQL behind a TCP proxy)', () => {
  const teardown = createTeardown()
  const keys = ed25519Pair()
  let scratch: ScratchSchema
  let proxy: TcpProxy
  let e2e: E2E

  before(async () => {
    scratch = await createScratchSchema('audit_e2e')
    teardown.add(() => scratch.drop())
    proxy = await startTcpProxy({ port: 5432 })
    teardown.add(() => proxy.close())
    const keyDir = await mkdtemp(join(tmpdir(), 'airlock-audit-key-'))
    teardown.add(() => rm(keyDir, { recursive: true, force: true }))
    const keyFile = join(keyDir, 'checkpoint-key.pem')
    await writeFile(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
    e2e = await startE2E({
      config: {
        audit: {
          sink: 'postgres',
          url: `postgres://postgres@127.0.0.1:${proxy.port}/test`,
          schema: scratch.name,
          connectTimeoutMs: 500,
          statementTimeoutMs: 500,
          checkpoint: { keyFile, intervalSeconds: 3_600 },
        },
      },
    })
    teardown.add(() => e2e.close())
  })
  after(() => teardown.run())

  const health = async () => {
    const response = await fetch(new URL('/healthz', e2e.gateway.origin))
    return { status: response.status, body: await response.json() }
  }
  const rows = async () =>
    (await scratch.admin.query<{ type: string; subject: string | null; line: string }>(`SELECT type, subject, line FROM ${scratch.name}.airlock_audit ORDER BY seq`)).rows

  it('returns a result only once its record is committed, withholds results while PostgreSQL is down, and recovers', async () => {
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    const ok = (await client.callTool({ name: 'whoami', arguments: {} })) as ToolResult
    assert.equal(ok.isError, undefined, JSON.stringify(ok.content))
    // The write resolved after COMMIT: the record is visible to another session the moment the result is.
    const calls = (await rows()).filter((r) => r.type === 'tools.call' && r.subject === 'alice')
    assert.equal(calls.length, 1)
    assert.equal(JSON.parse(calls[0]?.line ?? '{}').outcome, 'ok')

    await proxy.stop()
    const withheld = (await client.callTool({ name: 'whoami', arguments: {} })) as ToolResult
    assert.equal(withheld.isError, true)
    assert.match(withheld.content[0]?.text ?? '', /^\[AUDIT_UNAVAILABLE\] The call could not be recorded in the audit trail, so its result is withheld\. \(correlation id [0-9a-f]{12}\)$/)
    assert.deepEqual(await health(), { status: 503, body: { status: 'unavailable', reason: 'audit_unavailable' } })

    await proxy.start()
    e2e.clock.advance(5_000)
    const again = (await client.callTool({ name: 'whoami', arguments: {} })) as ToolResult
    assert.equal(again.isError, undefined, JSON.stringify(again.content))
    assert.deepEqual(await health(), { status: 200, body: { status: 'ok' } })
    const types = (await rows()).map((r) => r.type)
    assert.ok(types.includes('audit.recovered'), types.join(','))
  })

  it('seals the trail with a signed checkpoint at a clean stop; the chain verifies', async () => {
    await e2e.close()
    const result = await verifyPostgresTrail(scratch.admin, postgresAuditTables(scratch.name, 'airlock_audit'), [keys.publicKey])
    assert.ok(result.ok && result.checkpoints.ok, JSON.stringify(result))
    assert.equal(result.checkpoints.sealed, true)
    assert.equal((await rows()).at(-1)?.type, 'gateway.stop')
  })
})
