import assert from 'node:assert/strict'
import { rename, rm, writeFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { startE2E, type E2E } from './support/start-e2e.js'

/** What a load balancer's probe sees: /healthz follows the audit log the gateway cannot work without. */
describe('/healthz follows the audit log (composition root wiring)', () => {
  let e2e: E2E | undefined

  before(async () => {
    e2e = await startE2E()
  })
  after(async () => {
    await e2e?.close()
  })

  async function health(): Promise<{ status: number; body: unknown }> {
    const response = await fetch(new URL('/healthz', e2e?.gateway.origin))
    return { status: response.status, body: await response.json() }
  }

  it('is 200 while records land, 503 audit_unavailable while they cannot, and 200 again after recovery', async () => {
    if (e2e === undefined) throw new Error('set-up failed')
    assert.deepEqual(await health(), { status: 200, body: { status: 'ok' } })

    // Someone else's file at the audit path: the log must not append to it, so it fails closed.
    await rename(e2e.auditPath, `${e2e.auditPath}.moved`)
    await writeFile(e2e.auditPath, 'not an airlock record\n')
    const refused = await fetch(e2e.gateway.resource, { method: 'POST', headers: { host: new URL(e2e.gateway.origin).host, 'content-type': 'application/json' }, body: '{}' })
    assert.equal(refused.status, 401)
    assert.deepEqual(await health(), { status: 503, body: { status: 'unavailable', reason: 'audit_unavailable' } })

    // The foreign file goes away: the next probe reopens at the path and the gateway is ready again.
    await rm(e2e.auditPath)
    e2e.clock.advance(5_000)
    const { client } = await e2e.connect(await e2e.token('alice', ['dba']))
    await client.listTools()
    assert.deepEqual(await health(), { status: 200, body: { status: 'ok' } })
  })
})
