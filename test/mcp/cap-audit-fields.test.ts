import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { capAuditFields } from '../../src/mcp/cap-audit-fields.js'

const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value))

describe('capping an audit record field built from caller input', () => {
  it('returns small fields unchanged (the same object)', () => {
    const fields = { sql: 'SELECT 1', parameters: '[redacted]', limit: 5 }
    assert.equal(capAuditFields(fields), fields)
  })

  it('keeps entries in order while they fit and marks the rest with size and hash', () => {
    const capped = capAuditFields({ a: 'x'.repeat(100), big: 'y'.repeat(10_000), c: 3 }, 1024)
    assert.equal(capped.a, 'x'.repeat(100))
    assert.match(String(capped.big), /^\[omitted: 10002 bytes, sha256 [0-9a-f]{16}\]$/)
    assert.equal(capped.c, 3)
  })

  it('stays within the cap for many keys, huge keys and deep values', () => {
    const many = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))
    const hugeKey = { ['k'.repeat(500_000)]: 1 }
    let deep: Record<string, unknown> = { end: true }
    for (let i = 0; i < 500; i++) deep = { next: deep, pad: 'p'.repeat(100) }
    for (const fields of [many, hugeKey, deep]) {
      const capped = capAuditFields(fields, 8192)
      assert.ok(size(capped) <= 8192 + 300, `${size(capped)} bytes`)
    }
    assert.equal(capAuditFields(many, 8192)['[omitted keys]'] !== undefined, true)
    assert.ok(Object.keys(capAuditFields(hugeKey, 8192)).every((k) => k.length < 200), 'expected: Object.keys(capAuditFields(hugeKey, 8192)).every((k) => k.length < 200)')
  })
})
