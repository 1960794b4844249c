import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { measureGuardFloors, type GuardFloor } from '../../bench/lib/guard-floors.js'
import { checkTargets, guardFloorMs, p50Spread, type CellResult, type VariantResult } from '../../bench/lib/print-results.js'
import type { MicroCosts } from '../../bench/lib/micro-costs.js'
import { createPgTable, type ScratchTable } from '../tools/support/sql-test-databases.js'

/** Sums of measured floats differ in their last bits with the order they are added in. */
function assertClose(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`)
}

describe('measureGuardFloors (the guards’ own cost, the SQL probe measured inside PostgreSQL)', () => {
  const table = `airlock_floor_${randomBytes(4).toString('hex')}`
  let scratch: ScratchTable
  let floors: GuardFloor[]
  before(async () => {
    scratch = await createPgTable(table)
    floors = await measureGuardFloors(
      [
        { name: 'sql point', tool: 'sql_query', args: () => ({ sql: `SELECT id, owner FROM ${table} WHERE id = :id` }) },
        { name: 'sql constant', tool: 'sql_query', args: () => ({ sql: 'SELECT 1' }) },
        { name: 'ssm uptime', tool: 'ssm_run', args: () => ({ command: 'uptime' }) },
        { name: 'who', tool: 'whoami', args: () => ({}) },
      ],
      40,
    )
  })
  after(() => scratch.drop())

  it('times the SQL guard and what its probe adds to the read-only setup in the database', () => {
    const point = floors.find((f) => f.scenario === 'sql point')
    assert.ok(point?.probe !== undefined, 'a statement naming a table gets a probe')
    assert.ok(point.guardMicros > 0)
    // The probe joins several catalogs; the setup alone is a single SELECT of set_config calls.
    assert.ok(point.probe.planningMs > 0, `planning ${point.probe.planningMs} ms`)
    assert.ok(point.probe.executionMs > 0, `execution ${point.probe.executionMs} ms`)
    assertClose(guardFloorMs(point), point.guardMicros / 1000 + point.probe.planningMs + point.probe.executionMs)
  })

  it('gives a statement that names nothing the guard alone, as the gateway runs no probe for it', () => {
    const constant = floors.find((f) => f.scenario === 'sql constant')
    assert.ok(constant !== undefined && constant.guardMicros > 0)
    assert.equal(constant.probe, undefined)
  })

  it('times the shell guard for ssm_run and leaves unguarded tools out', () => {
    const ssm = floors.find((f) => f.scenario === 'ssm uptime')
    assert.ok(ssm !== undefined && ssm.guardMicros > 0 && ssm.probe === undefined)
    assertClose(guardFloorMs(ssm), ssm.guardMicros / 1000)
    assert.equal(floors.find((f) => f.scenario === 'who'), undefined)
  })
})

describe('checkTargets with guard floors and round-to-round noise', () => {
  const variant = (server: string, p50: number, p50PerRoundMs?: number[]): VariantResult => ({
    server,
    serverCpuPerCallMs: 1,
    cpuPerCallMs: 1,
    totalCalls: 10,
    concurrency: 1,
    calls: 10,
    errors: 0,
    throughput: 100,
    p50,
    p99: p50,
    ...(p50PerRoundMs === undefined ? {} : { p50PerRoundMs }),
  })
  const cell = (tool: string): CellResult => ({ tool, lane: '2026', concurrency: 1, bare: variant('bare MCP SDK', 10), airlock: [variant('airlock (audit write)', 12)] })
  const micro: MicroCosts = {
    verifyMicros: 1,
    sessionMicros: 1,
    policyMicros: 1,
    verifySessionPolicyMicros: 3,
    verifySessionPolicyBestMicros: 3,
    toolsList500GrantsMicros: 100,
    toolsList500GrantsBestMicros: 100,
  }

  it('attaches a tool’s guard floor to its added p50, and nothing to a tool without one', () => {
    const floors: GuardFloor[] = [{ scenario: 'sql_query point', guardMicros: 300, probe: { planningMs: 0.5, executionMs: 0.2 } }]
    const checks = checkTargets([cell('sql_query point'), cell('kubectl list pods')], micro, [], floors)
    const sql = checks.find((c) => c.target.startsWith('sql_query point') && c.target.endsWith('added p50 ms'))
    assert.equal(sql?.value, 2)
    assertClose(sql?.guardFloorMs, 0.3 + 0.5 + 0.2)
    assert.equal(sql?.met, false, 'the floor explains the miss; it does not turn it into a pass')
    const kubectl = checks.find((c) => c.target.startsWith('kubectl') && c.target.endsWith('added p50 ms'))
    assert.ok(kubectl !== undefined && kubectl.guardFloorMs === undefined)
  })

  it('reports how far the bare server’s p50 moved between rounds beside each added p50', () => {
    const noisy: CellResult = { ...cell('ssm_run uptime'), bare: variant('bare MCP SDK', 10, [9.5, 12, 10]) }
    const [check] = checkTargets([noisy], micro, [], []).filter((c) => c.target.endsWith('added p50 ms'))
    assert.equal(check?.bareP50SpreadMs, 2.5)
    assert.equal(check?.met, false)
  })

  it('has no spread to report from a single round', () => {
    assert.equal(p50Spread(variant('bare MCP SDK', 10, [10])), undefined)
    assert.equal(p50Spread(variant('bare MCP SDK', 10)), undefined)
    const [check] = checkTargets([cell('ssm_run uptime')], micro, [], []).filter((c) => c.target.endsWith('added p50 ms'))
    assert.ok(check !== undefined && !('bareP50SpreadMs' in check))
  })
})
