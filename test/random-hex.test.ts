import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { randomHex } from '../src/random-hex.js'

describe('randomHex', () => {
  it('gives the asked number of bytes as lowercase hex', () => {
    for (const bytes of [1, 6, 9, 32, 64]) assert.match(randomHex(bytes), new RegExp(`^[0-9a-f]{${bytes * 2}}$`))
  })

  it('never repeats an id across many pool refills', () => {
    // 6-byte ids: 4,096-byte pools hold 682 each, so 20,000 ids span some 30 refills.
    const ids = new Set(Array.from({ length: 20_000 }, () => randomHex(6)))
    assert.equal(ids.size, 20_000)
  })

  it('hands out fresh bytes when an id does not fit in the rest of the pool', () => {
    // 100 ids of 64 bytes need 6,400 bytes, more than one 4,096-byte pool: whatever the pool's position, one
    // of them meets its end, and all are different.
    const ids = new Set(Array.from({ length: 100 }, () => randomHex(64)))
    assert.equal(ids.size, 100)
  })

  it('refuses sizes it does not serve', () => {
    for (const bytes of [0, -1, 1.5, 65, Number.NaN]) assert.throws(() => randomHex(bytes), TypeError)
  })
})
