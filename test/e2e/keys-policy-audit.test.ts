import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { z } from 'zod'
import { verifyAuditFile } from '../../src/audit/verify-audit.js'
import { policyOf } from '../policy/policy-fixture.js'
import { E2E_POLICY, startE2E, type E2E } from './support/start-e2e.js'
import { INITIALIZE, postMcp } from './support/raw-http.js'

async function initStatus(e2e: E2E, token: string): Promise<number> {
  return (await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${token}` })).status
}

/** Polls until `check` passes or 3 s elapse (hot reload promises 2 s). */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 30; i++) {
    if (await check()) return true
    await sleep(100)
  }
  return false
}

describe('signing keys: rotation and issuer outage', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  it('picks up a rotated key (new kid) after the refetch cooldown', async () => {
    assert.equal(await initStatus(e2e, await e2e.token('alice', ['dba'])), 200)
    await e2e.issuer.rotate()
    e2e.clock.advance(31_000)
    assert.equal(await initStatus(e2e, await e2e.token('alice', ['dba'])), 200)
  })

  it('keeps verifying known keys while the issuer is down, and refuses unknown kids', async () => {
    const known = await e2e.token('alice', ['dba'])
    e2e.issuer.setDown(true)
    try {
      e2e.clock.advance(31_000)
      assert.equal(await initStatus(e2e, known), 200)
      await e2e.issuer.rotate()
      e2e.clock.advance(31_000)
      assert.equal(await initStatus(e2e, await e2e.token('alice', ['dba'])), 401)
    } finally {
      e2e.issuer.setDown(false)
    }
  })
})

describe('issuer unreachable at start-up', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E({ issuerDownAtStart: true })
  })
  after(() => e2e.close())

  it('refuses every token with 503 until the issuer answers, then verifies', async () => {
    const token = await e2e.token('alice', ['dba'])
    const refused = await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${token}` })
    assert.equal(refused.status, 503)
    // The start-up fetch failed a moment ago (on the gateway's clock): the next attempt is 1 s away.
    assert.equal(refused.headers.get('retry-after'), '1')
    e2e.issuer.setDown(false)
    assert.equal((await postMcp(e2e.gateway.resource, INITIALIZE, { authorization: `Bearer ${token}` })).status, 503)
    e2e.clock.advance(1_000)
    assert.equal(await initStatus(e2e, token), 200)
  })
})

describe('policy hot reload', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  it('changes the tool list and denies the next call after a policy edit; a broken file keeps the old policy', async () => {
    const token = await e2e.token('alice', ['dba'])
    const { client } = await e2e.connect(token)
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['list_connections', 'whoami'])

    await e2e.writePolicy({ ...E2E_POLICY, grants: [{ id: 'sre-self', groups: ['sre'], tools: ['whoami', 'list_connections'] }] })
    // whoami stays open to every caller; list_connections goes with the grant.
    assert.ok(await eventually(async () => (await client.listTools()).tools.length === 1), 'reload within 3 s')
    const denied = await client.callTool({ name: 'list_connections', arguments: {} })
    assert.equal(denied.isError, true)
    assert.match(JSON.stringify(denied.content), /POLICY_DENIED/)

    await writeFile(e2e.policyPath, '{ "version": 1, "grants": [ { "id": "x", "groups": ["dba"], "tools": ["whoami"], "tll": "5m" } ] }')
    await sleep(2500)
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['whoami'], 'the broken file did not replace the last good policy')

    await e2e.writePolicy(E2E_POLICY)
    assert.ok(await eventually(async () => (await client.listTools()).tools.length === 2), 'a later fix applies')
    const audit = await readFile(e2e.auditPath, 'utf8')
    assert.match(audit, /"type":"policy.reload_failed"[^\n]*tll/)

    // Every decision names the policy it was made under; reloads and the start say which policy is in force.
    const original = policyOf(E2E_POLICY).fingerprint
    const edited = policyOf({ ...E2E_POLICY, grants: [{ id: 'sre-self', groups: ['sre'], tools: ['whoami', 'list_connections'] }] }).fingerprint
    const records = audit.trim().split('\n').map((line) => z.looseObject({ type: z.string(), policyFingerprint: z.string().optional(), decision: z.string().optional() }).parse(JSON.parse(line)))
    assert.equal(records.find((r) => r.type === 'gateway.start')?.policyFingerprint, original)
    assert.deepEqual(records.filter((r) => r.type === 'policy.reload').map((r) => r.policyFingerprint), [edited, original])
    const denial = records.find((r) => r.type === 'tools.call')
    assert.deepEqual([denial?.decision, denial?.policyFingerprint], ['deny', edited])
    for (const r of records.filter((r) => r.type === 'tools.list')) assert.ok(r.policyFingerprint === original || r.policyFingerprint === edited, 'expected: r.policyFingerprint === original || r.policyFingerprint === edited')
    assert.equal(records.filter((r) => r.type === 'tools.list').at(0)?.policyFingerprint, original)
    assert.equal(records.filter((r) => r.type === 'tools.list').at(-1)?.policyFingerprint, original)
  })
})

describe('audit trail', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  it('records every call with identity and grant, verifies, and detects an edited line', async () => {
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    await client.callTool({ name: 'whoami', arguments: {} })
    const mallory = await e2e.connect(await e2e.token('mallory', []))
    // whoami is open to everyone; list_connections needs a grant mallory does not hold.
    await mallory.client.callTool({ name: 'list_connections', arguments: {} })

    const lines = (await readFile(e2e.auditPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    const calls = lines.filter((l) => l.type === 'tools.call')
    const allowed = calls.find((l) => (l.actor as { sub: string }).sub === 'alice')
    const denied = calls.find((l) => (l.actor as { sub: string }).sub === 'mallory')
    assert.equal(allowed?.grantId, 'dba-self')
    assert.equal(allowed?.outcome, 'ok')
    assert.equal(typeof allowed?.durationMs, 'number')
    assert.equal(typeof allowed?.resultBytes, 'number')
    assert.equal(denied?.decision, 'deny')
    assert.equal(denied?.reason, 'NO_GRANT')
    assert.ok(lines.some((l) => l.type === 'session.start'), 'expected: lines.some((l) => l.type === \'session.start\')')

    assert.deepEqual((await verifyAuditFile(e2e.auditPath)).ok, true)
    const text = await readFile(e2e.auditPath, 'utf8')
    await writeFile(e2e.auditPath, text.replace('"outcome":"ok"', '"outcome":"no"'))
    const broken = await verifyAuditFile(e2e.auditPath)
    assert.equal(broken.ok, false)
  })
})

describe('audit unavailable: fail closed', () => {
  let e2e: E2E
  before(async () => {
    e2e = await startE2E()
  })
  after(() => e2e.close())

  it('withholds tool results and lists when nothing can be recorded, without leaking internals', async () => {
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    await e2e.gateway.audit.close()
    const result = await client.callTool({ name: 'whoami', arguments: {} })
    assert.equal(result.isError, true)
    const text = JSON.stringify(result.content)
    assert.match(text, /\[AUDIT_UNAVAILABLE\]/)
    assert.doesNotMatch(text, /alice|subject/)
    await assert.rejects(client.listTools(), (error: unknown) => {
      const message = error instanceof Error ? error.message : ''
      assert.match(message, /could not list tools/)
      assert.ok(!message.includes(e2e.dir), 'no file paths')
      return true
    })
  })
})
