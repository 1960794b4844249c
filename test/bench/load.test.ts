import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { sampleCalls, summarize, type Sample } from '../../bench/lib/load.js'

const sample = (latencies: number[], extra: Partial<Sample> = {}): Sample => ({ latencies, seconds: 1, errors: 0, warmCalls: 0, cpuMicros: 0, ...extra })

describe('summarize', () => {
  it('gives calls/s as the calls recorded over the recorded time, and percentiles over every sample', () => {
    const result = summarize(2, [sample([10, 30]), sample([20], { seconds: 0.5 })])
    assert.equal(result.throughput, 2)
    assert.equal(result.calls, 3)
    assert.equal(result.p50, 20)
  })

  it('counts warm-up calls in the calls CPU is shared over, not in latency', () => {
    const result = summarize(1, [sample([5], { warmCalls: 3, cpuMicros: 8000 })])
    assert.equal(result.totalCalls, 4)
    assert.equal(result.cpuPerCallMs, 2)
  })
})

describe('sampleCalls', () => {
  it('records only calls made after warm-up, and counts error results in both', async () => {
    let n = 0
    const calls = [
      async () => {
        n++
        await sleep(20)
        return n % 2 === 0
      },
    ]
    const result = await sampleCalls(calls, { durationMs: 60, warmupMs: 50 })
    // At least one of each, however slowly timers fire: each phase checks its clock before its first call.
    assert.ok(result.warmCalls >= 1, `warm ${result.warmCalls}`)
    assert.ok(result.latencies.length >= 1)
    assert.equal(result.warmCalls + result.latencies.length, n)
    assert.equal(result.errors, Math.ceil(n / 2))
  })

  it('reports errors of a warm-up-only run, which records nothing', async () => {
    const result = await sampleCalls([async () => false], { durationMs: 0, warmupMs: 50 })
    assert.equal(result.latencies.length, 0)
    assert.ok(result.warmCalls > 0)
    assert.equal(result.errors, result.warmCalls)
  })
})
