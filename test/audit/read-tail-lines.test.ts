import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readTailLines } from '../../src/audit/read-tail-lines.js'

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-tail-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function tail(name: string, contents: string, count: number): Promise<{ lines: string[]; partial: string }> {
  const path = join(dir, name)
  await writeFile(path, contents)
  const result = await readTailLines(path, count)
  return { lines: result.lines.map((b) => b.toString('utf8')), partial: result.partial.toString('utf8') }
}

describe('readTailLines', () => {
  const cases: { name: string; contents: string; count: number; lines: string[]; partial: string }[] = [
    { name: 'empty', contents: '', count: 3, lines: [], partial: '' },
    { name: 'fewer-than-asked', contents: 'a\nb\n', count: 5, lines: ['a', 'b'], partial: '' },
    { name: 'last-two', contents: 'a\nb\nc\n', count: 2, lines: ['b', 'c'], partial: '' },
    { name: 'partial-tail', contents: 'a\nb\nhalf', count: 1, lines: ['b'], partial: 'half' },
    { name: 'only-partial', contents: 'half', count: 1, lines: [], partial: 'half' },
    { name: 'empty-lines', contents: '\n\nx\n', count: 3, lines: ['', '', 'x'], partial: '' },
    { name: 'zero', contents: 'a\n', count: 0, lines: [], partial: '' },
  ]
  for (const c of cases) {
    it(`handles ${c.name}`, async () => {
      assert.deepEqual(await tail(`${c.name}.txt`, c.contents, c.count), { lines: c.lines, partial: c.partial })
    })
  }

  it('reads across chunk boundaries without splitting a line', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `${i}:${'x'.repeat(97)}`)
    const result = await tail('big.txt', `${lines.join('\n')}\n`, 700)
    assert.deepEqual(result.lines, lines.slice(-700))
    const long = 'y'.repeat(200_000)
    assert.deepEqual((await tail('long.txt', `a\n${long}\n`, 1)).lines, [long])
    assert.deepEqual((await tail('long2.txt', `a\n${long}\n`, 2)).lines, ['a', long])
  })

  it('rejects a negative count as misuse', async () => {
    await assert.rejects(readTailLines(join(dir, 'big.txt'), -1), TypeError)
  })
})
