import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AuditEvent, AuditSink } from '../../src/audit/audit-event.js'
import type { Principal } from '../../src/auth/principal.js'
import { createManualClock } from '../../src/clock.js'
import { createCallAdmission } from '../../src/mcp/admit-call.js'
import { createAuditSampling } from '../../src/mcp/audit-sampling.js'
import { createToolCaller } from '../../src/mcp/call-tool.js'
import { createToolCatalog } from '../../src/mcp/tool-catalog.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { EVERYONE_GRANT_ID } from '../../src/policy/everyone-grant.js'
import { createMemoryState } from '../../src/state/gateway-state.js'
import type { ToolDeps } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { eks, policyOf, rds, ssm } from '../policy/policy-fixture.js'

// Anyone signed in may learn who they are and that they hold no grants; nothing else opens up.

const NOW = Date.parse('2026-11-29T12:00:00Z')
const policy = policyOf({
  version: 1,
  connections: { 'orders-db': rds, web: ssm, cluster: eks },
  grants: [
    { id: 'dba-read', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'] },
    { id: 'self-service', groups: ['dba'], tools: ['whoami', 'list_connections'] },
    { id: 'former', groups: ['former'], tools: ['whoami', 'list_connections'], notAfter: '2026-11-01T00:00:00Z' },
    { id: 'pending', groups: ['pending'], tools: ['whoami'], approval: { approverGroups: ['boss'] } },
  ],
})

function principal(subject: string, groups: string[]): Principal {
  return { issuer: 'https://idp.test', subject, groups, expiresAt: NOW / 1000 + 600, issuedAt: NOW / 1000 - 60 }
}

function setup() {
  const clock = createManualClock(NOW)
  const events: AuditEvent[] = []
  const audit: AuditSink = { write: async (event) => void events.push(event) }
  const state = createMemoryState(clock)
  const catalog = createToolCatalog(registeredTools)
  const deps = { clock, tools: registeredTools } as unknown as ToolDeps
  const call = createToolCaller({
    admit: createCallAdmission({ state, subjectLimits: {}, maxSignInAgeMs: 3600_000 }),
    activations: state.activations,
    catalog,
    deps,
    audit,
    denials: createAuditSampling({ audit, clock, logError: () => {} }),
    clock,
    redactArgs: (args) => args,
    logError: () => {},
  })
  const run = (who: Principal, name: string, rawArgs: unknown = {}) =>
    call({ principal: who, policy, session: { idHash: undefined }, name, rawArgs, signal: new AbortController().signal, progress: async () => undefined })
  return { catalog, events, state, run }
}

const text = (result: { content: { text: string }[] }) => result.content.map((c) => c.text).join('')

describe('whoami is open to every authenticated caller; nothing else is', () => {
  it('decides whoami for a caller without groups under the built-in grant, and nothing else', () => {
    const mallory = { groups: [], subject: 'mallory' }
    const whoami = evaluate(policy, mallory, { tool: 'whoami', connectionKinds: [], openToEveryone: true }, NOW)
    assert.ok(whoami.allow && whoami.grantId === EVERYONE_GRANT_ID, JSON.stringify(whoami))
    // The flag belongs to the tool: the same call without it is denied as before.
    assert.equal(evaluate(policy, mallory, { tool: 'whoami', connectionKinds: [] }, NOW).allow, false)
    const listConnections = evaluate(policy, mallory, { tool: 'list_connections', connectionKinds: [] }, NOW)
    assert.deepEqual(listConnections, { allow: false, reason: 'NO_GRANT', message: 'You have no grant for tool list_connections.' })
    const withConnection = evaluate(policy, mallory, { tool: 'whoami', connectionKinds: [], connection: 'orders-db', openToEveryone: true }, NOW)
    assert.equal(withConnection.allow, false, 'a connection named to whoami is still refused')
    const sql = evaluate(policy, mallory, { tool: 'sql_query', connectionKinds: ['rds-data'], connection: 'orders-db', openToEveryone: false }, NOW)
    assert.equal(sql.allow, false)
  })

  it('keeps a written grant deciding whoami when one applies; an expired or pending one falls back to the built-in grant', () => {
    const dba = evaluate(policy, { groups: ['dba'], subject: 'alice' }, { tool: 'whoami', connectionKinds: [], openToEveryone: true }, NOW)
    assert.ok(dba.allow && dba.grantId === 'self-service', JSON.stringify(dba))
    for (const groups of [['former'], ['pending']]) {
      const decision = evaluate(policy, { groups, subject: 'x' }, { tool: 'whoami', connectionKinds: [], openToEveryone: true }, NOW)
      assert.ok(decision.allow && decision.grantId === EVERYONE_GRANT_ID, `${groups[0]}: ${JSON.stringify(decision)}`)
    }
  })

  it('lists only whoami to a caller with no grants, read-only', () => {
    const { catalog } = setup()
    const listed = catalog.list(policy, principal('mallory', []), NOW)
    assert.deepEqual(listed.map((t) => t.name), ['whoami'])
    assert.deepEqual(listed[0]?.annotations, { title: 'Who am I', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false })
    assert.deepEqual(catalog.list(policy, principal('alice', ['dba']), NOW).map((t) => t.name), ['whoami', 'list_connections', 'sql_query'])
  })

  it('answers mallory who she is and that she holds no grants; every other tool stays denied', async () => {
    const { run, events, state } = setup()
    const mallory = principal('mallory', [])
    const result = await run(mallory, 'whoami')
    assert.equal(result.isError, undefined, text(result))
    assert.match(text(result), /^subject: mallory \(issuer https:\/\/idp\.test\)\ngroups: \(none\)\n/)
    assert.match(text(result), /grants: none — you hold no grants, so whoami is the only tool you can call/)
    assert.deepEqual(result.structuredContent?.['access'], [])
    const record = events.find((e) => e.type === 'tools.call' && e.tool === 'whoami')
    assert.equal(record?.grantId, EVERYONE_GRANT_ID)
    assert.equal(record?.decision, 'allow')
    assert.equal(events.some((e) => e.type === 'grant.activated'), false, 'no access period starts under the built-in grant')
    assert.deepEqual(await state.activations.find([{ issuer: mallory.issuer, subject: 'mallory', grantId: EVERYONE_GRANT_ID }]), [undefined])

    for (const [name, args] of [
      ['list_connections', {}],
      ['sql_query', { connection: 'orders-db', sql: 'SELECT 1' }],
      ['ssm_run', { connection: 'web', instance: 'i-0a1b2c3d4e5f60001', command: 'uptime' }],
      ['kubectl', { connection: 'cluster', verb: 'list', resource: 'pods', namespace: 'shop' }],
    ] as const) {
      const denied = await run(mallory, name, args)
      assert.equal(denied.isError, true, name)
      assert.match(text(denied), /^\[POLICY_DENIED\]/, name)
    }
    const named = await run(mallory, 'whoami', { connection: 'orders-db' })
    assert.match(text(named), /^\[POLICY_DENIED\]/, 'whoami with a connection is refused')
  })

  it('still lists the grants of a caller who has some', async () => {
    const { run } = setup()
    const result = await run(principal('alice', ['dba']), 'whoami')
    assert.match(text(result), /your access through dba-read starts at your first call/)
    assert.doesNotMatch(text(result), /grants: none/)
  })
})
