import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { LangVariant, ParseError, parse } from 'sh-syntax'
import { createPosixShellParser } from '../../../src/guard/shell/posix-shell-parser.js'
import { ESCAPE_FIXTURES } from './escape-fixtures.js'

const realWasm = (): Uint8Array => readFileSync(createRequire(import.meta.url).resolve('sh-syntax/main.wasm'))
/** The smallest valid WebAssembly module: it compiles, but has no Go runtime in it. */
const EMPTY_MODULE = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])

/** What sh-syntax's own parse (a fresh Go runtime per call) says about the same line. */
async function stock(input: string): Promise<unknown> {
  try {
    const file = await parse(input, { variant: LangVariant.LangPOSIX, keepComments: true })
    return { ok: true, file }
  } catch (error) {
    if (error instanceof ParseError) return { ok: false, failure: 'syntax', detail: error.Text }
    throw error
  }
}

/** Lines that fill the most heap per parse among those the lexer lets through (4 KiB, many parts). */
const HEAVY = ['a""'.repeat(1365), Array(2048).fill('a').join(' '), Array(1365).fill("''").join(' ')]

/** Lines of every shape the guard may see, light and heavy, valid and not (one nests past the stack and traps). */
const VARIED = [
  'a;'.repeat(2000),
  'a | b && c || d; e &'.repeat(150),
  'x=1 '.repeat(800) + 'cmd',
  'echo "$(ls)" `pwd` $((1+2*3))'.repeat(100),
  '${x:-${y:-${z}}}'.repeat(200),
  '$('.repeat(500) + ')'.repeat(500),
  'for i in 1 2 3; do echo $i; done | grep x > /tmp/y',
  "'",
  '',
]

describe('createPosixShellParser', () => {
  // Every reset is checked against the whole image: a bound that missed a written byte is a drift.
  const drifts: string[] = []
  let last = ''
  const parser = createPosixShellParser({ verifyEvery: 1, onDrift: () => drifts.push(last) })
  const parse = (input: string) => {
    last = input.slice(0, 60)
    return parser.parse(input)
  }

  it('returns exactly what a fresh sh-syntax runtime returns, whatever was parsed before', async () => {
    const corpus = [
      ...ESCAPE_FIXTURES.map((f) => f.input),
      'uptime',
      "journalctl -u 'nginx' -n \"50\"",
      'systemctl status nginx.service',
      ...HEAVY,
      `echo ${'x'.repeat(4090)}`,
    ]
    // Forward then backward, so every line is parsed after both a light and a heavy neighbour.
    for (const input of [...corpus, ...corpus.toReversed()]) {
      assert.deepEqual(parse(input), await stock(input), JSON.stringify(input.slice(0, 60)))
    }
    assert.deepEqual(drifts, [])
  })

  it('resets only what a parse wrote, and that is all it wrote: memory matches the image after every line', () => {
    for (const input of [...VARIED, ...HEAVY, ...VARIED.toReversed()]) parse(input)
    parse('uptime')
    assert.deepEqual(drifts, [])
  })

  it('parses heavy lines back to back without the runtime failing (memory is reset each time)', () => {
    for (let i = 0; i < 150; i++) {
      const input = HEAVY[i % HEAVY.length] ?? ''
      const result = parse(input)
      assert.ok(result.ok, `parse ${i}: ${result.ok ? '' : result.detail}`)
      assert.equal(result.file.Stmts.length, 1)
      assert.equal(result.file.Stmts[0]?.Cmd?.End.Offset, input.length)
    }
    assert.deepEqual(drifts, [])
  })

  it('reports syntax errors as results', () => {
    assert.deepEqual(parser.parse("echo 'hi"), { ok: false, failure: 'syntax', detail: "reached EOF without closing quote `'`" })
    const result = parser.parse('uptime )')
    assert.equal(result.ok, false)
    assert.equal(result.ok ? undefined : result.failure, 'syntax')
  })

  it('parses more than one statement for the guard to refuse', () => {
    const result = parser.parse('uptime; reboot')
    assert.ok(result.ok, 'expected: result.ok')
    assert.equal(result.file.Stmts.length, 2)
  })

  it('fails closed when the WebAssembly does not compile', () => {
    const broken = createPosixShellParser({ loadWasm: () => Uint8Array.from([1, 2, 3]) })
    const result = broken.parse('uptime')
    assert.equal(result.ok, false)
    assert.equal(result.ok ? undefined : result.failure, 'runtime')
  })

  it('fails closed when the module has no Go runtime', () => {
    const broken = createPosixShellParser({ loadWasm: () => EMPTY_MODULE })
    const result = broken.parse('uptime')
    assert.deepEqual(result.ok ? undefined : result.failure, 'runtime')
  })

  it('fails closed when loading throws, then recovers once loading works', () => {
    let attempts = 0
    const flaky = createPosixShellParser({
      loadWasm: () => {
        attempts++
        if (attempts === 1) throw new Error('disk gone')
        return realWasm()
      },
    })
    assert.deepEqual(flaky.parse('uptime'), { ok: false, failure: 'runtime', detail: 'disk gone' })
    const again = flaky.parse('uptime')
    assert.ok(again.ok, 'expected: again.ok')
    assert.equal(again.file.Stmts.length, 1)
    assert.equal(attempts, 2)
  })

  it('rejects misuse', () => {
    assert.throws(() => Reflect.apply(parser.parse, parser, [42]), TypeError)
  })
})
