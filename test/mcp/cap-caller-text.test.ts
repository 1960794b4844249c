import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { capCallerText } from '../../src/mcp/cap-caller-text.js'

describe('capping caller-controlled text', () => {
  it('keeps ordinary strings as they are, up to the cap in code points', () => {
    for (const value of ['sql_query', 'orders-eu', 'x'.repeat(128), 'é'.repeat(128), '😀'.repeat(128), '']) assert.equal(capCallerText(value, 128), value)
  })

  it('truncates longer strings with their length and hash, never splitting a surrogate pair', () => {
    const long = 'a'.repeat(127) + '😀' + 'b'.repeat(1000)
    const capped = capCallerText(long, 128)
    const digest = createHash('sha256').update(long).digest('hex').slice(0, 16)
    assert.equal(capped, `${'a'.repeat(127)}😀…[altered: ${long.length} chars, sha256 ${digest}]`)
    assert.ok(Buffer.byteLength(capCallerText('😀'.repeat(1_000_000), 128)) < 4 * 128 + 64, 'expected: Buffer.byteLength(capCallerText(\'😀\'.repeat(1_000_000), 128)) < 4 * 128 + 64')
  })

  it('replaces control, format, surrogate and private-use characters, and says so', () => {
    for (const [value, kept] of [
      ['a\u0000b', 'a\uFFFDb'],
      ['\u001b[31mred', '\uFFFD[31mred'],
      ['abc\u202Efdp.exe', 'abc\uFFFDfdp.exe'],
      ['zero\u200Bwidth', 'zero\uFFFDwidth'],
      ['half\uD800', 'half\uFFFD'],
      ['priv\uE000', 'priv\uFFFD'],
      ['new\nline', 'new\uFFFDline'],
    ] as const) {
      assert.match(capCallerText(value, 128), new RegExp(`^${kept.replace(/[[\]\\.]/g, '\\$&')}…\\[altered: ${value.length} chars, sha256 [0-9a-f]{16}\\]$`, 'u'))
    }
  })

  it('treats a bad cap as misuse', () => {
    assert.throws(() => capCallerText('x', 0), TypeError)
    assert.throws(() => capCallerText('x', 1.5), TypeError)
  })
})
