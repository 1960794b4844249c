import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { unwrapArguments, wrapNonObjectArguments } from '../../src/mcp/wrap-non-object-arguments.js'

const call = (id: number, args: unknown): Record<string, unknown> => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: args } })

describe('wrapNonObjectArguments', () => {
  it('passes a body without non-object arguments on as it is, with no key to unwrap', () => {
    for (const body of [call(1, {}), call(2, { a: 1 }), { jsonrpc: '2.0', id: 3, method: 'tools/list' }, [call(4, { b: 2 })], { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'whoami' } }]) {
      const wrapped = wrapNonObjectArguments(body)
      assert.equal(wrapped.body, body, `the same body: ${JSON.stringify(body)}`)
      assert.equal(wrapped.key, undefined, `no key drawn: ${JSON.stringify(body)}`)
    }
  })

  it('wraps non-object arguments under a fresh key per body, and unwraps them with it', () => {
    for (const args of ['text', 42, null, true, [1, 2]]) {
      const first = wrapNonObjectArguments([call(1, { kept: 1 }), call(2, args)])
      const second = wrapNonObjectArguments(call(3, args))
      assert.ok(first.key !== undefined && second.key !== undefined, 'a key is drawn for a body that needs one')
      assert.notEqual(first.key, second.key, 'each body gets its own key')
      const [kept, moved] = first.body as { params: { arguments: Record<string, unknown> } }[]
      assert.deepEqual(kept?.params.arguments, { kept: 1 }, 'object arguments are left alone')
      assert.deepEqual(unwrapArguments(moved?.params.arguments, first.key), args, 'the caller’s arguments come back exactly')
    }
  })

  it('never unwraps without the body’s key: an object that looks wrapped stays an object', () => {
    const lookalike = { 'airlock-arguments-000000000000000000000000': 'x' }
    assert.deepEqual(unwrapArguments(lookalike, undefined), lookalike, 'no key, no unwrapping')
    const { key } = wrapNonObjectArguments(call(1, 'x'))
    assert.deepEqual(unwrapArguments(lookalike, key), lookalike, 'another key does not unwrap it')
  })
})
