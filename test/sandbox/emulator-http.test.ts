import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InputError } from '../../src/errors.js'
import { readBody, sendJson, startHttpServer } from '../../src/sandbox/emulator-http.js'

describe('emulator-http', () => {
  it('serves JSON on 127.0.0.1 and refuses bodies over the cap', async () => {
    const server = await startHttpServer(async (req, res) => {
      try {
        const body = await readBody(req, 8)
        sendJson(res, 200, { bytes: body.length })
      } catch (err) {
        assert.ok(err instanceof InputError, 'expected: err instanceof InputError')
        sendJson(res, 413, { message: 'too large' })
      }
    })
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const ok = await fetch(server.url, { method: 'POST', body: '12345678' })
      assert.equal(ok.status, 200)
      assert.equal(ok.headers.get('content-type'), 'application/json')
      assert.deepEqual(await ok.json(), { bytes: 8 })
      const big = await fetch(server.url, { method: 'POST', body: '123456789' })
      assert.equal(big.status, 413)
    } finally {
      await server.close()
    }
  })

  it('answers a bare 500 when the handler throws, without its message', async () => {
    const server = await startHttpServer(() => {
      throw new Error('secret internal detail')
    })
    try {
      const res = await fetch(server.url)
      assert.equal(res.status, 500)
      assert.ok(!(await res.text()).includes('secret'), 'expected: !(await res.text()).includes(\'secret\')')
    } finally {
      await server.close()
    }
  })
})
