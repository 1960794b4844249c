import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createManualClock } from '../../src/clock.js'
import { createAuthFailureSampler } from '../../src/mcp/auth-failure-sampler.js'

describe('auth failure sampling', () => {
  it('records one failure per client per window and reports what it left out', () => {
    const clock = createManualClock(0)
    const sampler = createAuthFailureSampler({ clock, windowMs: 10_000, maxClients: 100 })
    assert.deepEqual(sampler.admit('10.0.0.1'), { record: true, suppressed: 0 })
    assert.deepEqual(sampler.admit('10.0.0.1'), { record: false, suppressed: 1 })
    assert.deepEqual(sampler.admit('10.0.0.1'), { record: false, suppressed: 2 })
    assert.deepEqual(sampler.admit('10.0.0.2'), { record: true, suppressed: 0 }, 'other clients are independent')
    clock.advance(10_000)
    assert.deepEqual(sampler.admit('10.0.0.1'), { record: true, suppressed: 2 })
  })

  it('stays bounded: past the client cap it forgets and records again', () => {
    const clock = createManualClock(0)
    const sampler = createAuthFailureSampler({ clock, windowMs: 10_000, maxClients: 2 })
    sampler.admit('a')
    sampler.admit('b')
    assert.equal(sampler.admit('c').record, true)
    assert.equal(sampler.admit('a').record, true)
  })
})
