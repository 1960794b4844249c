import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { takeMemoryImage } from '../../../src/guard/shell/memory-image.js'

const PAGE = 4096
const SIZE = 64 * PAGE

/** Memory as a runtime might leave it after start: data low, zeros, a little metadata at the top. */
function started(): Uint8Array {
  const memory = new Uint8Array(SIZE)
  for (let i = 0; i < 3 * PAGE; i++) memory[i] = (i * 7) % 251
  memory.fill(9, SIZE - PAGE, SIZE - PAGE + 100)
  return memory
}

/** Writes `value` at every offset given, returning the memory. */
function scribble(memory: Uint8Array, offsets: readonly number[], value = 0xee): Uint8Array {
  for (const at of offsets) memory[at] = value
  return memory
}

describe('takeMemoryImage', () => {
  it('restores all of memory when no bound is given', () => {
    const memory = started()
    const image = takeMemoryImage(memory)
    scribble(memory, [0, PAGE + 5, 20 * PAGE, 40 * PAGE + 17, SIZE - 1])
    assert.equal(image.matches(memory), false)
    image.restore(memory)
    assert.deepEqual(memory, started())
    assert.equal(image.matches(memory), true)
  })

  it('bounded, restores below the bound rounded up to a page and the top 1/32, and nothing between', () => {
    const memory = started()
    const image = takeMemoryImage(memory)
    const below = [0, 2 * PAGE + 1, 10 * PAGE + 3, 10 * PAGE + PAGE - 1]
    const between = [11 * PAGE, 30 * PAGE + 8, 61 * PAGE]
    const top = [62 * PAGE, SIZE - PAGE + 50, SIZE - 1]
    scribble(memory, [...below, ...between, ...top])
    image.restore(memory, 10 * PAGE + 1)
    for (const at of [...below, ...top]) assert.equal(memory[at], started()[at], `offset ${at} restored`)
    for (const at of between) assert.equal(memory[at], 0xee, `offset ${at} left as it was`)
    assert.equal(image.matches(memory), false, 'what the bound missed is found')
  })

  it('restores all of it when the bound reaches the top region, and treats a negative bound as zero', () => {
    const memory = started()
    const image = takeMemoryImage(memory)
    scribble(memory, [5 * PAGE, 61 * PAGE])
    image.restore(memory, 62 * PAGE)
    assert.equal(image.matches(memory), true)
    scribble(memory, [0, 5 * PAGE, SIZE - 1])
    image.restore(memory, -10)
    assert.deepEqual([memory[0], memory[5 * PAGE], memory[SIZE - 1]], [0xee, 0xee, started()[SIZE - 1]], 'the top only')
  })

  it('finds a single changed byte anywhere: in data, in zeros, at either end', () => {
    const image = takeMemoryImage(started())
    for (const at of [0, 3 * PAGE - 1, 3 * PAGE, 33 * PAGE + 4095, SIZE - PAGE + 99, SIZE - 1]) {
      const memory = started()
      memory[at] = (memory[at] ?? 0) ^ 1
      assert.equal(image.matches(memory), false, `offset ${at}`)
    }
    assert.equal(image.matches(started()), true)
  })

  it('refuses memory of another size', () => {
    const image = takeMemoryImage(started())
    assert.equal(image.matches(new Uint8Array(SIZE + PAGE)), false)
    assert.throws(() => image.restore(new Uint8Array(SIZE - PAGE)), TypeError)
  })
})
