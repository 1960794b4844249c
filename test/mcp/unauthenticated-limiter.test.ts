import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createManualClock } from '../../src/clock.js'
import { createUnauthenticatedLimiter, limiterKey } from '../../src/mcp/unauthenticated-limiter.js'

function limiter(overrides: { burst?: number; perMinute?: number; maxAddresses?: number } = {}) {
  const clock = createManualClock(1_000_000)
  return { clock, limiter: createUnauthenticatedLimiter({ clock, burst: 3, perMinute: 6, maxAddresses: 100, ...overrides }) }
}

describe('createUnauthenticatedLimiter', () => {
  it('admits an address until it has used its burst of failures, then refuses it with the seconds until the next allowance', () => {
    const { limiter: l } = limiter()
    assert.equal(l.refusal('192.0.2.1'), undefined)
    assert.equal(l.failed('192.0.2.1'), false)
    assert.equal(l.failed('192.0.2.1'), false)
    assert.equal(l.refusal('192.0.2.1'), undefined)
    assert.equal(l.failed('192.0.2.1'), true, 'the third failure uses the last allowance')
    // 6 per minute: one every 10 s.
    assert.deepEqual(l.refusal('192.0.2.1'), { retryAfterSeconds: 10 })
  })

  it('counts each address on its own', () => {
    const { limiter: l } = limiter()
    for (let i = 0; i < 3; i++) l.failed('192.0.2.1')
    assert.notEqual(l.refusal('192.0.2.1'), undefined)
    assert.equal(l.refusal('192.0.2.2'), undefined)
    assert.equal(l.failed('192.0.2.2'), false)
  })

  it('refills at perMinute, counting down Retry-After, and admits again once one allowance is back', () => {
    const { clock, limiter: l } = limiter()
    for (let i = 0; i < 3; i++) l.failed('192.0.2.1')
    clock.advance(4_000)
    assert.deepEqual(l.refusal('192.0.2.1'), { retryAfterSeconds: 6 })
    clock.advance(5_500)
    assert.deepEqual(l.refusal('192.0.2.1'), { retryAfterSeconds: 1 })
    clock.advance(500)
    assert.equal(l.refusal('192.0.2.1'), undefined)
    assert.equal(l.failed('192.0.2.1'), true, 'one allowance back, used at once')
    assert.notEqual(l.refusal('192.0.2.1'), undefined)
  })

  it('reports the start of a refusal once even when concurrent failures overdraw the allowance', () => {
    const { limiter: l } = limiter({ burst: 1 })
    assert.equal(l.failed('192.0.2.1'), true)
    assert.equal(l.failed('192.0.2.1'), false)
    assert.notEqual(l.refusal('192.0.2.1'), undefined)
  })

  it('forgets the least recently failing address beyond maxAddresses, and sweeps addresses whose allowance is whole', () => {
    const { clock, limiter: l } = limiter({ maxAddresses: 2, burst: 1 })
    l.failed('192.0.2.1')
    l.failed('192.0.2.2')
    l.failed('192.0.2.3')
    assert.equal(l.tracked, 2)
    assert.equal(l.refusal('192.0.2.1'), undefined, 'evicted')
    assert.notEqual(l.refusal('192.0.2.3'), undefined)
    clock.advance(5_000)
    l.sweep()
    assert.equal(l.tracked, 2, 'not whole yet')
    clock.advance(5_000)
    l.sweep()
    assert.equal(l.tracked, 0)
  })

  it('counts IPv6 clients by /64 and IPv4 by address', () => {
    const { limiter: l } = limiter({ burst: 1 })
    l.failed('2001:db8:1:2::1')
    assert.notEqual(l.refusal('2001:db8:1:2:ffff:ffff:ffff:fffe'), undefined, 'same /64')
    assert.equal(l.refusal('2001:db8:1:3::1'), undefined, 'another /64')
    assert.equal(limiterKey('2001:0db8:0001:0002:0000:0000:0000:0001'), '2001:db8:1:2::/64')
    assert.equal(limiterKey('::1'), '0:0:0:0::/64')
    assert.equal(limiterKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
    assert.equal(limiterKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64')
    assert.equal(limiterKey('192.0.2.1'), '192.0.2.1')
  })

  it('refuses nonsense settings', () => {
    const clock = createManualClock(0)
    assert.throws(() => createUnauthenticatedLimiter({ clock, burst: 0, perMinute: 1, maxAddresses: 1 }), TypeError)
    assert.throws(() => createUnauthenticatedLimiter({ clock, burst: 1, perMinute: 0, maxAddresses: 1 }), TypeError)
    assert.throws(() => createUnauthenticatedLimiter({ clock, burst: 1, perMinute: 1, maxAddresses: 0 }), TypeError)
  })
})
