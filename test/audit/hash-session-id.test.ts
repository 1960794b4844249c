import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { hashSessionId } from '../../src/audit/hash-session-id.js'

describe('hashSessionId', () => {
  it('is the first 32 hex chars of SHA-256 and never contains the id', () => {
    const id = 'b7f3a1c2-0d4e-4f5a-9b8c-7d6e5f4a3b2c'
    const hashed = hashSessionId(id)
    assert.equal(hashed, createHash('sha256').update(id).digest('hex').slice(0, 32))
    assert.match(hashed, /^[0-9a-f]{32}$/)
    assert.notEqual(hashSessionId(`${id}x`), hashed)
  })

  it('rejects an empty id as misuse', () => {
    assert.throws(() => hashSessionId(''), TypeError)
  })
})
