import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runReadinessChecks, type ReadinessCheck } from '../src/readiness-check.js'

const passing = (name: string): ReadinessCheck => ({ name, check: async () => ({ ok: true }) })
const failing = (name: string, reason: string): ReadinessCheck => ({ name, check: async () => ({ ok: false, reason }) })

describe('runReadinessChecks', () => {
  it('is ready when every check passes, and names each', async () => {
    assert.deepEqual(await runReadinessChecks([passing('policy'), passing('audit')]), { ready: true, checks: { policy: { ok: true }, audit: { ok: true } } })
    assert.deepEqual(await runReadinessChecks([]), { ready: true, checks: {} })
  })

  it('is not ready when one check fails, and keeps its reason code', async () => {
    const report = await runReadinessChecks([passing('policy'), failing('state_store', 'redis_unreachable')])
    assert.deepEqual(report, { ready: false, checks: { policy: { ok: true }, state_store: { ok: false, reason: 'redis_unreachable' } } })
  })

  it('reads a throwing, rejecting or hung check as failed, and never passes on free text', async () => {
    const report = await runReadinessChecks(
      [
        { name: 'throws', check: () => { throw new Error('boom') } },
        { name: 'rejects', check: async () => { throw new Error('password=hunter2') } },
        { name: 'hangs', check: () => new Promise(() => undefined) },
        failing('free_text', 'connect ECONNREFUSED 10.0.0.5:6379 (password hunter2)'),
      ],
      50,
    )
    assert.deepEqual(report, {
      ready: false,
      checks: {
        throws: { ok: false, reason: 'check_failed' },
        rejects: { ok: false, reason: 'check_failed' },
        hangs: { ok: false, reason: 'timeout' },
        free_text: { ok: false, reason: 'unavailable' },
      },
    })
  })

  it('refuses names that are not unique snake_case words (a wiring mistake)', async () => {
    await assert.rejects(runReadinessChecks([passing('audit'), passing('audit')]), TypeError)
    await assert.rejects(runReadinessChecks([passing('State Store')]), TypeError)
  })
})
