import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatLogLine } from '../../src/cli/format-log-line.js'

describe('formatLogLine (the sandbox terminal)', () => {
  it('shows level, message and fields, without the plumbing', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-11-29T12:00:00.000Z', pid: 7, hostname: 'h', mcp: 'http://127.0.0.1:8080/mcp', admin: 'http://127.0.0.1:9464', msg: 'airlock is listening' })
    assert.equal(formatLogLine(line), 'gateway info  airlock is listening  mcp=http://127.0.0.1:8080/mcp admin=http://127.0.0.1:9464')
    assert.equal(formatLogLine(JSON.stringify({ level: 'error', msg: 'x', error: { name: 'E' } })), 'gateway error x  error={"name":"E"}')
  })

  it('passes anything else through', () => {
    assert.equal(formatLogLine('not json'), 'gateway not json')
    assert.equal(formatLogLine('{"no":"level"}'), 'gateway {"no":"level"}')
  })
})
