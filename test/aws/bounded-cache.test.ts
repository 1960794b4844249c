import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cacheKeyText, createBoundedCache, type CacheKey } from '../../src/aws/bounded-cache.js'
import { createManualClock } from '../../src/clock.js'

const START = Date.UTC(2026, 0, 1)

describe('createBoundedCache', () => {
  it('keeps at most maxEntries, dropping the least recently used and telling onEvict', () => {
    const evicted: string[] = []
    const cache = createBoundedCache<string>({ maxEntries: 3, onEvict: (v) => evicted.push(v) })
    for (const k of ['a', 'b', 'c']) cache.set([k], k)
    assert.equal(cache.get(['a']), 'a', 'reading a makes it the most recently used')
    cache.set(['d'], 'd')
    assert.equal(cache.size, 3)
    assert.deepEqual(evicted, ['b'])
    assert.equal(cache.get(['b']), undefined)
    cache.set(['e'], 'e')
    assert.deepEqual(evicted, ['b', 'c'])
    assert.deepEqual(['a', 'd', 'e'].map((k) => cache.get([k])), ['a', 'd', 'e'])
  })

  it('holds exactly maxEntries without evicting, and one more evicts exactly one', () => {
    const evicted: number[] = []
    const cache = createBoundedCache<number>({ maxEntries: 100, onEvict: (v) => evicted.push(v) })
    for (let i = 0; i < 100; i++) cache.set([String(i)], i)
    assert.equal(cache.size, 100)
    assert.deepEqual(evicted, [])
    cache.set(['100'], 100)
    assert.equal(cache.size, 100)
    assert.deepEqual(evicted, [0])
  })

  it('tells onEvict about replaced and deleted values, not about a value set again', () => {
    const evicted: string[] = []
    const cache = createBoundedCache<string>({ maxEntries: 3, onEvict: (v) => evicted.push(v) })
    cache.set(['k'], 'one')
    cache.set(['k'], 'one')
    cache.set(['k'], 'two')
    assert.equal(cache.size, 1)
    assert.equal(cache.delete(['k']), true)
    assert.equal(cache.delete(['k']), false)
    assert.deepEqual(evicted, ['one', 'two'])
  })

  it('drops entries unused for idleMs; using one keeps it', () => {
    const clock = createManualClock(START)
    const evicted: string[] = []
    const cache = createBoundedCache<string>({ maxEntries: 10, clock, idleMs: 1000, onEvict: (v) => evicted.push(v) })
    cache.set(['used'], 'used')
    cache.set(['idle'], 'idle')
    clock.advance(600)
    assert.equal(cache.get(['used']), 'used')
    clock.advance(600)
    assert.equal(cache.get(['used']), 'used')
    assert.equal(cache.get(['idle']), undefined)
    assert.deepEqual(evicted, ['idle'])
  })

  it('drops a value at its own expiry, and sweeps expired values when another is added', () => {
    const clock = createManualClock(START)
    const evicted: number[] = []
    const cache = createBoundedCache<number>({ maxEntries: 10, clock, expiresAt: (until) => until, onEvict: (v) => evicted.push(v) })
    cache.set(['short'], START + 100)
    cache.set(['long'], START + 10_000)
    cache.set(['middle'], START + 500)
    clock.advance(99)
    assert.equal(cache.get(['short']), START + 100)
    clock.advance(1)
    assert.equal(cache.get(['short']), undefined, 'expired at its own moment')
    clock.advance(500)
    cache.set(['new'], START + 20_000)
    assert.equal(cache.size, 2, 'the expired middle entry was swept when a value was added')
    assert.deepEqual(evicted, [START + 100, START + 500])
  })

  it('keeps keys that differ in any part apart, however their parts would concatenate', () => {
    const cache = createBoundedCache<string>({ maxEntries: 100 })
    const keys: CacheKey[] = [
      ['a:b', 'c'], ['a', 'b:c'], ['a|b', 'c'], ['a', 'b|c'], ['a b', 'c'], ['a', 'b c'], ['a', 'b', 'c'], ['abc'],
      ['a', undefined], ['a', ''], ['a', 'null'], ['a', 'undefined'], ['a'], ['a', undefined, undefined],
      ['","'], ['"', '"'], ['[', ']'], ['a\u0000b'], ['a', '\u0000b'],
    ]
    for (const key of keys) cache.set(key, JSON.stringify(key))
    assert.equal(cache.size, keys.length)
    for (const key of keys) assert.equal(cache.get(key), JSON.stringify(key))
    assert.equal(new Set(keys.map(cacheKeyText)).size, keys.length)
  })

  it('refuses a bound that is not a positive integer, and a time limit without a clock', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => createBoundedCache({ maxEntries }), TypeError, String(maxEntries))
    }
    assert.throws(() => createBoundedCache({ maxEntries: 1, idleMs: 1000 }), TypeError)
    assert.throws(() => createBoundedCache<number>({ maxEntries: 1, expiresAt: (v) => v }), TypeError)
    assert.throws(() => createBoundedCache({ maxEntries: 1, clock: createManualClock(START), idleMs: 0 }), TypeError)
  })
})
