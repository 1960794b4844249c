import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { canonicalJson } from '../../src/canonical-json.js'
import { hashArgs } from '../../src/mcp/hash-args.js'

describe('argument hashes for intent and outcome records', () => {
  it('does not depend on key order, at any depth', () => {
    assert.equal(hashArgs({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } }), hashArgs({ a: { c: 'x', d: [1, { y: 2, z: 1 }] }, b: 1 }))
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'é'] }), '{"a":[true,null,"é"],"b":1}')
  })

  it('differs for different arguments and is the SHA-256 of the canonical JSON', () => {
    assert.notEqual(hashArgs({ command: 'uptime' }), hashArgs({ command: 'uptime ' }))
    assert.notEqual(hashArgs({ a: [1, 2] }), hashArgs({ a: [2, 1] }))
    assert.equal(hashArgs({ b: 2, a: 1 }), createHash('sha256').update('{"a":1,"b":2}').digest('hex'))
  })

  it('drops undefined members as JSON does', () => {
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}')
    assert.equal(canonicalJson([undefined]), '[null]')
  })
})
