import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { namesMethod } from '../../src/mcp/names-method.js'

describe('namesMethod', () => {
  it('is true only for an object whose method is exactly the one named', () => {
    assert.equal(namesMethod({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} }, 'tools/call'), true, 'a tools/call request')
    assert.equal(namesMethod({ method: 'notifications/cancelled' }, 'notifications/cancelled'), true, 'a notification')
    for (const [message, why] of [
      [{ method: 'tools/list' }, 'another method'],
      [{ method: 'TOOLS/CALL' }, 'another case'],
      [{ method: ['tools/call'] }, 'a method that is not a string'],
      [{ params: { method: 'tools/call' } }, 'the name nested, not the method'],
      [{ jsonrpc: '2.0', id: 1, result: {} }, 'a response'],
      [null, 'null'],
      ['tools/call', 'a bare string'],
      [[{ method: 'tools/call' }], 'a batch (its messages are tested one by one)'],
      [undefined, 'nothing'],
    ] as const) {
      assert.equal(namesMethod(message, 'tools/call'), false, why)
    }
  })
})
