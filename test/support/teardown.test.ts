import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createTeardown } from './teardown.js'

describe('createTeardown', () => {
  it('does nothing when set-up registered nothing', async () => {
    await createTeardown().run()
  })

  it('runs every step, last first, and reports all failures together', async () => {
    const ran: string[] = []
    const teardown = createTeardown()
    teardown.add(() => ran.push('first'))
    teardown.add(() => {
      ran.push('second')
      throw new Error('close failed')
    })
    teardown.add(async () => ran.push('third'))
    await assert.rejects(teardown.run(), (error: unknown) => error instanceof AggregateError && error.errors.length === 1)
    assert.deepEqual(ran, ['third', 'second', 'first'])
    await teardown.run()
    assert.equal(ran.length, 3, 'a second run repeats nothing')
  })
})
