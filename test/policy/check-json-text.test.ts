import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkJsonText } from '../../src/policy/check-json-text.js'

const rows: [string, string, string][] = [
  ['{"a": }', '1:7', 'unexpected "}"; expected a value'],
  ['{"a": 1', '1:8', 'unexpected end of file; expected "," or "}"'],
  ['{"a": 1}}', '1:9', 'unexpected "}" after the end of the JSON value'],
  ['{a: 1}', '1:2', 'unexpected "a"; expected a property name in double quotes'],
  ['', '1:1', 'unexpected end of file; expected a value'],
  ['[1,]', '1:4', 'unexpected "]"; expected a value'],
  ['{"x": 01}', '1:8', 'unexpected "1"; expected "," or "}"'],
  ['{"x": "\\q"}', '1:8', 'bad escape "\\q"'],
  ['{"x": "a\tb"}', '1:9', 'control character in string; escape it'],
  ['{\n  "x": "open\n}', '2:13', 'control character in string; escape it'],
  ['{"x": "open', '1:7', 'unterminated string'],
  ['{"x": tru}', '1:7', 'unexpected "t"; expected a value'],
  ['['.repeat(300), '1:258', 'nested too deeply'],
]

describe('checkJsonText', () => {
  for (const [text, where, message] of rows) {
    it(`refuses ${JSON.stringify(text.slice(0, 20))}`, () => {
      const problems = checkJsonText(text)
      assert.equal(problems.length, 1)
      assert.equal(`${problems[0]?.line}:${problems[0]?.column}`, where)
      assert.equal(problems[0]?.message, message)
    })
  }

  it('accepts what JSON.parse accepts', () => {
    for (const text of ['  {"ok": [true, false, null, -1.5e3, 0, "\\u00e9\\n", {}, []]}  ', '"s"', '1', '{"a": {"a": {"a": 1}}}']) {
      JSON.parse(text)
      assert.deepEqual(checkJsonText(text), [], text)
    }
  })

  it('reports every duplicate key with its path', () => {
    const problems = checkJsonText('{\n  "a": 1,\n  "b": [1, {"c": 1, "c": 2}],\n  "a": 3\n}')
    assert.deepEqual(
      problems.map((p) => [p.path, p.line, p.column]),
      [
        [['b', 1, 'c'], 3, 21],
        [['a'], 4, 3],
      ],
    )
  })
})
