import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { STAGES } from '../../bench/lib/profile-stages.js'
import { AIRLOCK_STAGES, floorOf, type StageCosts } from '../../bench/lib/stage-floor.js'

function costs(stages: Partial<Record<(typeof STAGES)[number], number>>): StageCosts {
  const all = Object.fromEntries(STAGES.map((s) => [s, stages[s] ?? 0]))
  const cpu = Object.values(all).reduce((a, b) => a + b, 0)
  return { calls: 100, cpuMicrosPerCall: cpu, sampledMicrosPerCall: cpu, stagesMicrosPerCall: all, stageShares: {}, otherTop: [] }
}

describe('floorOf (what the gateway and bare profiles say about the gateway’s floor)', () => {
  const bare = costs({ 'MCP framing': 400, 'node runtime (http, net, timers)': 500, policy: 20, GC: 80 })
  const gateway = costs({ 'MCP framing': 450, 'node runtime (http, net, timers)': 520, GC: 100, 'HTTP handling': 30, policy: 70, audit: 60, 'session lookup': 20, 'token verification': 10 })

  it('charges Airlock its own stages beyond what the bare server spends in them', () => {
    const floor = floorOf(gateway, bare)
    assert.equal(floor.airlockMicros, 70 - 20 + 60 + 20 + 10)
    assert.equal(floor.sharedExcessMicros, 50 + 20 + 20 + 30)
  })

  it('splits the whole CPU difference between the two, nothing left out', () => {
    const floor = floorOf(gateway, bare)
    assert.equal(floor.airlockMicros + floor.sharedExcessMicros, gateway.cpuMicrosPerCall - bare.cpuMicrosPerCall)
  })

  it('sets the ratio ceiling by Airlock’s own stages alone', () => {
    const floor = floorOf(gateway, bare)
    assert.equal(floor.ceilingRatio, 1000 / (1000 + 140))
    assert.equal(floorOf(bare, bare).ceilingRatio, 1, 'a gateway doing only what the bare server does could match it')
  })

  it('budgets Airlock’s own stages at what keeps the ratio at 0.9: a ninth of the bare server’s CPU', () => {
    const floor = floorOf(gateway, bare)
    assert.ok(Math.abs(floor.budgetAt90Micros - 1000 / 9) < 1e-9)
    // At exactly the budget the ceiling is the target.
    const atBudget = costs({ 'MCP framing': 400, 'node runtime (http, net, timers)': 500, policy: 20, GC: 80, audit: 1000 / 9 })
    assert.ok(Math.abs(floorOf(atBudget, bare).ceilingRatio - 0.9) < 1e-9)
  })

  it('counts the HTTP, framing, tool, runtime and GC stages as shared work, the rest as Airlock’s', () => {
    for (const shared of ['MCP framing', 'HTTP handling', 'tool + AWS/k8s client', 'node runtime (http, net, timers)', 'GC'] as const) assert.ok(!AIRLOCK_STAGES.includes(shared), shared)
    for (const own of ['token verification', 'session lookup', 'policy', 'guard', 'masking', 'audit'] as const) assert.ok(AIRLOCK_STAGES.includes(own), own)
  })
})
