import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { checkpointFilePath, readCheckpointFile } from '../../src/audit/checkpoint-file.js'
import { loadGatewayConfig } from '../../src/cli/load-config.js'
import { silentLogger } from '../../src/cli/logger.js'
import { openAuditTrail } from '../../src/cli/open-audit-trail.js'
import { createManualClock } from '../../src/clock.js'
import { AuditError, ConfigError } from '../../src/errors.js'
import { createTeardown } from '../support/teardown.js'
import { PG_URL, createScratchSchema, type ScratchSchema } from '../audit/support/pg-audit-scratch.js'

const clock = createManualClock(Date.UTC(2026, 7, 8))
const keys = generateKeyPairSync('ed25519')

describe('the audit section of the gateway config', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-audit-config-'))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  const load = async (audit: unknown, env: Record<string, string> = {}) => {
    await writeFile(join(dir, 'airlock.json'), JSON.stringify({ issuer: 'https://idp.example.com', policy: ['p'], audit }))
    return (await loadGatewayConfig('airlock.json', env, dir)).audit
  }
  const refused = async (audit: unknown, pattern: RegExp, env: Record<string, string> = {}) =>
    assert.rejects(load(audit, env), (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && !/s3cret/.test(e.message))

  it('keeps file configs valid: the sink defaults to "file", paths resolve against the config file', async () => {
    assert.deepEqual(await load({ path: 'audit.jsonl', checkpoint: { keyFile: 'key.pem' } }), {
      sink: 'file',
      path: join(dir, 'audit.jsonl'),
      durability: 'fsync',
      redactKeys: [],
      checkpoint: { keyFile: join(dir, 'key.pem'), intervalSeconds: 60 },
    })
  })

  it('takes a postgres sink with bounded timeouts, and its URL, the sink and the key from the environment', async () => {
    const audit = await load({ sink: 'postgres', url: 'postgres://airlock@db:5432/audit' })
    assert.deepEqual(audit, { sink: 'postgres', url: 'postgres://airlock@db:5432/audit', schema: 'public', table: 'airlock_audit', redactKeys: [], poolSize: 4, connectTimeoutMs: 5000, statementTimeoutMs: 5000 })
    const fromEnv = await load({}, { AIRLOCK_AUDIT_SINK: 'postgres', AIRLOCK_AUDIT_URL: 'postgresql://a:s3cret@db/x', AIRLOCK_AUDIT_CHECKPOINT_KEY_FILE: '/run/secrets/key' })
    assert.ok(fromEnv.sink === 'postgres' && fromEnv.url === 'postgresql://a:s3cret@db/x' && fromEnv.checkpoint?.keyFile === '/run/secrets/key', JSON.stringify(fromEnv))
  })

  it('refuses what does not fit the sink, naming the key and never the URL', async () => {
    await refused({ sink: 'postgres', path: 'a.jsonl' }, /audit\.url: /)
    await refused({ sink: 'postgres', url: 'mysql://a:s3cret@db/x' }, /audit\.url: expected a postgres/)
    await refused({ sink: 'postgres', url: 'postgres://db/x', table: 'Audit-Log' }, /audit\.table: expected a lower-case identifier/)
    await refused({ sink: 'postgres', url: 'postgres://db/x', statementTimeoutMs: 0 }, /audit\.statementTimeoutMs/)
    await refused({ sink: 's3', path: 'a' }, /audit\.sink: expected "file" \(the default\) or "postgres"/)
    await refused({ path: 'a', url: 'postgres://db/x' }, /audit: Unrecognized key: "url"/)
    await refused({ path: 'a' }, /AIRLOCK_AUDIT_URL \(environment\): audit\.url: expected a postgres/, { AIRLOCK_AUDIT_SINK: 'postgres', AIRLOCK_AUDIT_URL: 'http://s3cret' })
  })
})

describe('openAuditTrail', () => {
  const teardown = createTeardown()
  let dir: string
  let scratch: ScratchSchema
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-audit-trail-'))
    teardown.add(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'key.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }))
    await writeFile(join(dir, 'rsa.pem'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }))
    scratch = await createScratchSchema()
    teardown.add(() => scratch.drop())
  })
  after(() => teardown.run())

  const file = (name: string, keyFile?: string) => ({
    sink: 'file' as const,
    path: join(dir, name),
    durability: 'write' as const,
    redactKeys: [],
    ...(keyFile === undefined ? {} : { checkpoint: { keyFile: join(dir, keyFile), intervalSeconds: 3600 } }),
  })
  const postgres = (url: string, keyFile?: string) => ({
    sink: 'postgres' as const,
    url,
    schema: scratch.name,
    table: 'trail',
    redactKeys: [],
    poolSize: 2,
    connectTimeoutMs: 500,
    statementTimeoutMs: 500,
    ...(keyFile === undefined ? {} : { checkpoint: { keyFile: join(dir, keyFile), intervalSeconds: 3600 } }),
  })

  it('opens the file sink, reports health, and seals it at close when a key is configured', async () => {
    const trail = await openAuditTrail({ audit: file('a.jsonl', 'key.pem'), clock, logger: silentLogger })
    await trail.write({ type: 'gateway.start' })
    assert.deepEqual(trail.health(), { ok: true })
    await trail.close()
    assert.deepEqual(trail.health(), { ok: false, reason: 'audit_closed' })
    const stored = await readCheckpointFile(checkpointFilePath(join(dir, 'a.jsonl')), 'c')
    assert.equal(stored?.sources.length, 1, 'one checkpoint, written by close')
  })

  it('opens the postgres sink on its own pool, seals it and releases it at close', async () => {
    const trail = await openAuditTrail({ audit: postgres(PG_URL, 'key.pem'), clock, logger: silentLogger })
    await trail.write({ type: 'gateway.start' })
    await trail.close()
    const [count] = (await scratch.admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${scratch.name}.trail_checkpoints`)).rows
    assert.equal(count?.n, 1)
    // An open pool would keep this test process alive; the sink itself refuses more writes.
    await assert.rejects(trail.write({ type: 'gateway.stop' }), (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_CLOSED')
  })

  it('refuses a missing or non-Ed25519 key, and an unreachable database, naming no secret', async () => {
    for (const keyFile of ['missing.pem', 'rsa.pem']) {
      await assert.rejects(openAuditTrail({ audit: file('b.jsonl', keyFile), clock, logger: silentLogger }), (e: unknown) => e instanceof ConfigError && e.message.includes(keyFile) && !e.message.includes('PRIVATE KEY'))
    }
    const password = randomBytes(8).toString('hex')
    await assert.rejects(
      openAuditTrail({ audit: postgres(`postgres://postgres:${password}@127.0.0.1:1/test`), clock, logger: silentLogger }),
      (e: unknown) => e instanceof AuditError && e.code === 'AUDIT_WRITE_FAILED' && !e.message.includes(password),
    )
  })
})
