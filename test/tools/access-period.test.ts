import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { createManualClock } from '../../src/clock.js'
import { UpstreamError } from '../../src/errors.js'
import type { Activation } from '../../src/state/activation-store.js'
import { accessPeriod, accessPeriodText, durationText } from '../../tools/access-period.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { AnyToolContext, AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import listConnectionsTool from '../../tools/list-connections.js'
import whoamiTool from '../../tools/whoami.js'
import { policyOf, rds } from '../policy/policy-fixture.js'

const listConnections: AnyToolDefinition = listConnectionsTool
const whoami: AnyToolDefinition = whoamiTool
const NOW = Date.parse('2026-06-01T12:00:00Z')
const MIN = 60_000

const policy = policyOf({
  version: 1,
  connections: { 'orders-db': rds, 'reports-db': rds },
  grants: [
    { id: 'basics', groups: ['dba'], tools: ['whoami', 'list_connections'], ttl: '1h' },
    { id: 'dba-read', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'], ttl: '15m', limits: { callsPerMinute: 30, concurrentCalls: 2 }, sql: { maxRows: 200 } },
    { id: 'reports', groups: ['dba'], connections: ['reports-db'], tools: ['sql_query'], ttl: '90s', sql: {} },
    // Shadowed by dba-read for orders-db: never decides a call, so it has no period to show.
    { id: 'shadowed', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'], ttl: '2h', sql: {} },
  ],
})

function activation(activatedAt: number, minutes: number): Activation {
  return { activatedAt, expiresAt: activatedAt + minutes * MIN, signedInAt: activatedAt - MIN, source: 'sign-in', recorded: true }
}

function context(stored: Record<string, Activation>, nowMs: number): AnyToolContext {
  const clock = createManualClock(nowMs)
  const grant = policy.grants[0] ?? assert.fail('grant')
  return {
    principal: { issuer: 'https://idp.example.com', subject: 'alice', groups: ['dba'], expiresAt: nowMs / 1000 + 300, issuedAt: nowMs / 1000, authTime: nowMs / 1000 - 60 },
    grant,
    connection: undefined,
    args: {},
    deps: createToolDeps({
      aws: createAwsClients({
        credentials: async () => {
          throw new UpstreamError('AWS_CREDENTIALS', 'no AWS here')
        },
      }),
      clock,
      tools: registeredTools.map((t) => ({ name: t.name, connectionKinds: t.connectionKinds })),
    }),
    signal: new AbortController().signal,
    progress: async () => undefined,
    activations: async (ids) => new Map(ids.flatMap((id) => (stored[id] === undefined ? [] : [[id, stored[id]] as const]))),
    policy,
  }
}

describe('access periods as the agent sees them', () => {
  it('states each of the three cases in one sentence', () => {
    const grant = policy.grants[1] ?? assert.fail('grant')
    assert.equal(accessPeriodText(accessPeriod(grant, undefined, NOW), 'dba-read', 'orders-db'), 'your access to orders-db through dba-read starts at your first call and lasts 15 min')
    assert.equal(accessPeriodText(accessPeriod(grant, activation(NOW - 5 * MIN, 15), NOW), 'dba-read', 'orders-db'), 'your access to orders-db through dba-read ends at 12:10 UTC')
    assert.equal(
      accessPeriodText(accessPeriod(grant, activation(NOW - 20 * MIN, 15), NOW), 'dba-read'),
      'your access through dba-read ended at 11:55 UTC; sign in again to start a new period of 15 min',
    )
    assert.deepEqual([durationText(90), durationText(45), durationText(7200), durationText(900)], ['2 min', '45 s', '2 h', '15 min'])
  })

  it('ends a running period early when the policy shortens the ttl', () => {
    const grant = { ...(policy.grants[1] ?? assert.fail('grant')), ttl: 300 }
    assert.deepEqual(accessPeriod(grant, activation(NOW - 6 * MIN, 15), NOW), { status: 'ended', endsAt: '2026-06-01T11:59:00.000Z', periodSeconds: 300 })
  })

  it('list_connections shows the period and the call limits per connection', async () => {
    const result = await listConnections.handler(context({ 'dba-read': activation(NOW - 5 * MIN, 15) }, NOW))
    const lines = result.text.split('\n')
    assert.ok(lines.includes('  sql_query: your access to orders-db through dba-read ends at 12:10 UTC; at most 30 calls per minute; at most 2 at once; read-only, max 200 rows, 30s timeout'), result.text)
    assert.ok(lines.includes('  sql_query: your access to reports-db through reports starts at your first call and lasts 2 min; read-only, max 1000 rows, 30s timeout'), result.text)
    const orders = (result.structured?.connections as { id: string; tools: { access: unknown }[] }[]).find((c) => c.id === 'orders-db')
    assert.deepEqual(orders?.tools[0]?.access, { status: 'active', endsAt: '2026-06-01T12:10:00.000Z', periodSeconds: 900 })
  })

  it('whoami lists every grant that decides a call of the caller, with its period, and the sign-in time', async () => {
    const result = await whoami.handler(context({ basics: activation(NOW - 70 * MIN, 60) }, NOW))
    assert.deepEqual(result.structured?.access, [
      { grantId: 'basics', status: 'ended', endsAt: '2026-06-01T11:50:00.000Z', periodSeconds: 3600 },
      { grantId: 'dba-read', status: 'not_started', periodSeconds: 900 },
      { grantId: 'reports', status: 'not_started', periodSeconds: 90 },
    ])
    assert.equal(result.structured?.signedInAt, '2026-06-01T11:59:00.000Z')
    assert.match(result.text, /^your access through basics ended at 11:50 UTC; sign in again to start a new period of 1 h$/m)
    assert.match(result.text, /^your access through dba-read starts at your first call and lasts 15 min$/m)
  })
})
