import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CliCommand } from '../../src/cli/cli-io.js'
import { devOnlyCommand } from '../../src/cli/dev-only-command.js'

function capture() {
  let err = ''
  return { io: { stdout: () => {}, stderr: (t: string) => (err += t), cwd: '.', env: {} }, err: () => err }
}

describe('devOnlyCommand', () => {
  it('turns a module a production install leaves out into one line and exit 1', async () => {
    // A real import of a module that is not there: the same error a production install raises.
    const missing = './not-in-this-install.js'
    const command = await devOnlyCommand('sandbox', async (): Promise<CliCommand> => (await import(missing)).sandboxCommand)()
    const { io, err } = capture()
    assert.equal(await command([], io), 1)
    assert.equal(err(), 'airlock: `sandbox` needs a full install (a checkout and `npm install`); a production install leaves out the sandbox\n')
  })

  it('turns a missing package into the same line', async () => {
    const missing = 'airlock-no-such-package'
    const command = await devOnlyCommand('token', async (): Promise<CliCommand> => (await import(missing)).tokenCommand)()
    const { io, err } = capture()
    assert.equal(await command([], io), 1)
    assert.match(err(), /^airlock: `token` needs a full install/)
  })

  it('rethrows any other load failure', async () => {
    const broken = new TypeError('broken module')
    await assert.rejects(devOnlyCommand('sandbox', () => Promise.reject(broken))(), broken)
  })

  it('returns the command when it loads', async () => {
    const real: CliCommand = async () => 0
    assert.equal(await devOnlyCommand('token', async () => real)(), real)
  })
})
