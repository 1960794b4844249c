import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { alterTail } from './alter.js'

describe('alterTail', () => {
  it('always changes the text, also when it already ends in the fill character', () => {
    for (const text of ['xyzA', 'xyzB', 'xAAAA', 'xAAAB', 'A']) {
      for (const count of [1, 2, 4].filter((n) => n <= text.length)) {
        const altered = alterTail(text, count)
        assert.notEqual(altered, text, `${text} / ${count}`)
        assert.equal(altered.length, text.length)
        assert.equal(altered.slice(0, -count), text.slice(0, -count), 'only the tail changes')
      }
    }
  })

  it('refuses a count it cannot honour', () => {
    assert.throws(() => alterTail('ab', 0), RangeError)
    assert.throws(() => alterTail('ab', 3), RangeError)
  })
})
