import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createManualClock } from '../../src/clock.js'
import { createRecordSampler } from '../../src/mcp/record-sampler.js'

describe('record sampling (auth failures per client, denials per identity)', () => {
  it('records one failure per client per window and reports what it left out', () => {
    const clock = createManualClock(0)
    const sampler = createRecordSampler<string>({ clock, windowMs: 10_000, maxKeys: 100 })
    assert.deepEqual(sampler.admit('10.0.0.1', '10.0.0.1'), { record: true, suppressed: 0, due: [] })
    assert.deepEqual(sampler.admit('10.0.0.1', '10.0.0.1'), { record: false, suppressed: 0, due: [] })
    assert.deepEqual(sampler.admit('10.0.0.1', '10.0.0.1'), { record: false, suppressed: 0, due: [] })
    assert.deepEqual(sampler.admit('10.0.0.2', '10.0.0.2'), { record: true, suppressed: 0, due: [] }, 'other clients are independent')
    clock.advance(10_000)
    assert.deepEqual(sampler.admit('10.0.0.1', '10.0.0.1'), { record: true, suppressed: 2, due: [] })
  })

  it('hands back the final window’s count when the flood stops (it was lost before)', () => {
    const clock = createManualClock(0)
    const sampler = createRecordSampler<string>({ clock, windowMs: 10_000, maxKeys: 100 })
    for (let i = 0; i < 50; i++) sampler.admit('10.0.0.9', '10.0.0.9')
    assert.deepEqual(sampler.drain('ended'), [], 'the window is still open')
    clock.advance(10_000)
    assert.deepEqual(sampler.drain('ended'), [{ subject: '10.0.0.9', suppressed: 49 }])
    assert.deepEqual(sampler.drain('all'), [], 'counted once')
    assert.deepEqual(sampler.admit('10.0.0.9', '10.0.0.9'), { record: true, suppressed: 0, due: [] })
  })

  it('at shutdown drains counts of windows still open, and keeps counting after', () => {
    const clock = createManualClock(0)
    const sampler = createRecordSampler<string>({ clock, windowMs: 10_000, maxKeys: 100 })
    for (let i = 0; i < 7; i++) sampler.admit('a', 'a')
    assert.deepEqual(sampler.drain('all'), [{ subject: 'a', suppressed: 6 }])
    sampler.admit('a', 'a')
    assert.deepEqual(sampler.drain('all'), [{ subject: 'a', suppressed: 1 }])
  })

  it('hands back quiet clients’ counts on the next admission after their window, without a timer', () => {
    const clock = createManualClock(0)
    const sampler = createRecordSampler<string>({ clock, windowMs: 10_000, maxKeys: 100 })
    for (let i = 0; i < 4; i++) sampler.admit('quiet', 'quiet')
    clock.advance(10_001)
    assert.deepEqual(sampler.admit('other', 'other'), { record: true, suppressed: 0, due: [{ subject: 'quiet', suppressed: 3 }] })
    assert.deepEqual(sampler.drain('all'), [])
  })

  it('stays bounded: past the client cap it forgets, records again, and hands back the forgotten counts', () => {
    const clock = createManualClock(0)
    const sampler = createRecordSampler<string>({ clock, windowMs: 10_000, maxKeys: 2 })
    sampler.admit('a', 'a')
    sampler.admit('a', 'a')
    sampler.admit('b', 'b')
    const c = sampler.admit('c', 'c')
    assert.equal(c.record, true)
    assert.deepEqual(c.due, [{ subject: 'a', suppressed: 1 }])
    assert.equal(sampler.admit('a', 'a').record, true)
  })

  it('counts every occurrence exactly once under a random flood across keys and time', () => {
    const clock = createManualClock(0)
    const sampler = createRecordSampler<string>({ clock, windowMs: 1000, maxKeys: 5 })
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const total = new Map<string, number>()
    const counted = new Map<string, number>()
    const add = (key: string, n: number) => counted.set(key, (counted.get(key) ?? 0) + n)
    for (let i = 0; i < 20_000; i++) {
      clock.advance(Math.floor(random() * 5))
      const key = `k${Math.floor(random() * 8)}`
      total.set(key, (total.get(key) ?? 0) + 1)
      const admission = sampler.admit(key, key)
      if (admission.record) add(key, 1 + admission.suppressed)
      for (const due of admission.due) add(due.subject, due.suppressed)
      if (i % 997 === 0) for (const due of sampler.drain('ended')) add(due.subject, due.suppressed)
    }
    for (const due of sampler.drain('all')) add(due.subject, due.suppressed)
    assert.deepEqual(new Map([...counted].sort()), new Map([...total].sort()))
  })
})
