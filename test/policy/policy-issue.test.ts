import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatIssuePath, formatPolicyIssue } from '../../src/policy/policy-issue.js'

describe('formatIssuePath', () => {
  const rows: [PropertyKey[], string][] = [
    [[], ''],
    [['grants', 3, 'sql', 'mode'], 'grants[3].sql.mode'],
    [['connections', 'orders-db', 'region'], 'connections.orders-db.region'],
    [['connections', 'db.prod'], 'connections["db.prod"]'],
    [['grants', 0, 'sql', 'maskColumns', '*.email'], 'grants[0].sql.maskColumns["*.email"]'],
    [['$schema'], '$schema'],
    [['ssm', 'commands', 1, 2], 'ssm.commands[1][2]'],
  ]
  for (const [path, expected] of rows) {
    it(`renders ${JSON.stringify(expected)}`, () => assert.equal(formatIssuePath(path), expected))
  }
})

describe('formatPolicyIssue', () => {
  it('prefixes the file, then the JSON path', () => {
    assert.equal(formatPolicyIssue({ source: 'policies/prod.json', path: 'grants[3].sql.mode', message: 'expected "read-only" | "read-write"' }), 'policies/prod.json: grants[3].sql.mode: expected "read-only" | "read-write"')
  })
  it('omits an empty path and shows line:column when known', () => {
    assert.equal(formatPolicyIssue({ source: 'a.json', path: '', message: 'no such file or directory' }), 'a.json: no such file or directory')
    assert.equal(formatPolicyIssue({ source: 'a.json', path: '', message: 'invalid JSON: x', line: 3, column: 7 }), 'a.json:3:7: invalid JSON: x')
  })
})
