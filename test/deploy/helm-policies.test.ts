import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runCli } from '../../src/cli/run-cli.js'

describe('the Helm chart ships policies the gateway accepts', () => {
  it('passes airlock policy check', async () => {
    let out = ''
    let err = ''
    const code = await runCli(['policy', 'check', 'deploy/helm/airlock/files/policies'], {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      cwd: process.cwd(),
      env: {},
    })
    assert.equal(code, 0, err)
    assert.notEqual(out, '')
  })
})
