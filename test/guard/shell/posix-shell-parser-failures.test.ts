import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { createPosixShellParser } from '../../../src/guard/shell/posix-shell-parser.js'

// Every way the parser's runtime can misbehave is a refusal ({ ok: false }), never a tree and
// never a throw. The runtime here is a tiny hand-assembled WebAssembly module standing in for
// mvdan/sh: its `process` returns a pointer to whatever JSON (or garbage) the test chose, and a
// stand-in for sh-syntax's Go glue starts it.

const realGo: unknown = Reflect.get(globalThis, 'Go')
const realWebAssembly: unknown = Reflect.get(globalThis, 'WebAssembly')
afterEach(() => {
  Reflect.set(globalThis, 'Go', realGo)
  Reflect.set(globalThis, 'WebAssembly', realWebAssembly)
})

function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

function sleb(n: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body]
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()]
const name = (text: string): number[] => vector([...Buffer.from(text)].map((b) => [b]))

interface FakeModule {
  /** `wasmAlloc` returns this (i32); `'none'` makes it return nothing; absent leaves it out. */
  readonly alloc?: number | 'none'
  /** `process` returns this pointer; `'none'` makes it return nothing; absent leaves it out. */
  readonly result?: number | 'none'
  /** Grow memory by a page inside `process`. */
  readonly grow?: boolean
  /** An address `process` writes a word to, as a runtime writing past what its allocator says would. */
  readonly store?: number
  /** Export the memory (default true). */
  readonly memory?: boolean
  /** Bytes placed at an offset of the one 64 KiB page. */
  readonly data?: readonly (readonly [offset: number, bytes: Uint8Array])[]
}

/** Assembles a module with one memory page and the exports the parser calls. */
function fakeWasm(m: FakeModule): Uint8Array {
  const i32 = 0x7f
  const types = section(1, vector([[0x60, 0, 1, i32], [0x60, 0, 0]]))
  const bodies: { name: string; type: number; code: number[] }[] = []
  const fn = (value: number | 'none', grow: boolean, store?: number) => {
    const code: number[] = []
    if (grow) code.push(0x41, ...sleb(1), 0x40, 0x00, 0x1a)
    if (store !== undefined) code.push(0x41, ...sleb(store), 0x41, ...sleb(0x5a5a), 0x36, 0x02, 0x00)
    if (value !== 'none') code.push(0x41, ...sleb(value))
    code.push(0x0b)
    return { type: value === 'none' ? 1 : 0, code }
  }
  if (m.alloc !== undefined) bodies.push({ name: 'wasmAlloc', ...fn(m.alloc, false) })
  if (m.result !== undefined) bodies.push({ name: 'process', ...fn(m.result, m.grow === true, m.store) })
  const functions = section(3, vector(bodies.map((b) => [b.type])))
  const memory = section(5, vector([[0x00, 1]]))
  const exports = section(
    7,
    vector([
      ...(m.memory === false ? [] : [[...name('memory'), 0x02, 0]]),
      ...bodies.map((b, i) => [...name(b.name), 0x00, i]),
    ]),
  )
  const code = section(10, vector(bodies.map((b) => { const body = [0, ...b.code]; return [...uleb(body.length), ...body] })))
  const data = section(
    11,
    vector((m.data ?? []).map(([offset, bytes]) => [0x00, 0x41, ...sleb(offset), 0x0b, ...uleb(bytes.length), ...bytes])),
  )
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...functions, ...memory, ...exports, ...code, ...data])
}

/** Stands in for sh-syntax's Go glue: `run` starts nothing and reports the exit it is told to. */
function fakeGo(options: { exited?: unknown; exitCode?: unknown; importObject?: unknown; run?: unknown } = {}): void {
  class FakeGo {
    importObject: unknown = 'importObject' in options ? options.importObject : {}
    exited: unknown = false
    exitCode: unknown = undefined
    run: unknown =
      'run' in options
        ? options.run
        : async () => {
            this.exited = 'exited' in options ? options.exited : true
            this.exitCode = 'exitCode' in options ? options.exitCode : 0
          }
  }
  Reflect.set(globalThis, 'Go', FakeGo)
}

const text = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`)
const AT = 1024
const OK_TREE = JSON.stringify({
  file: { Stmts: [{ Comments: [], Cmd: { Pos: { Offset: 0, Line: 1 }, End: { Offset: 6, Line: 1 } }, Redirs: null, Negated: false, Background: false, Coprocess: false, Semicolon: { Offset: 0, Line: 0 } }], Last: null },
})

function parseWith(m: FakeModule, input = 'uptime') {
  fakeGo()
  return createPosixShellParser({ loadWasm: () => fakeWasm(m) }).parse(input)
}

describe('posix shell parser: results read from the runtime', () => {
  it('returns the tree the runtime reports', () => {
    const result = parseWith({ alloc: 0, result: AT, data: [[AT, text(OK_TREE)]] })
    assert.ok(result.ok, `expected a tree: ${JSON.stringify(result)}`)
    assert.equal(result.file.Stmts.length, 1)
    assert.equal(result.file.Stmts[0]?.Cmd?.End.Offset, 6)
  })
  it('writes the input where wasmAlloc says, then reads the answer there', () => {
    // process returns the allocation itself: the answer is the input the parser copied in.
    const result = parseWith({ alloc: AT, result: AT }, OK_TREE)
    assert.ok(result.ok, `expected the copied input back as a tree: ${JSON.stringify(result)}`)
  })
  const cases: [name: string, json: string, expected: unknown][] = [
    ['a parse error', JSON.stringify({ parseError: { Text: 'bad token' }, file: JSON.parse(OK_TREE).file }), { ok: false, failure: 'syntax', detail: 'bad token' }],
    ['a message', JSON.stringify({ message: 'unsupported', file: JSON.parse(OK_TREE).file }), { ok: false, failure: 'syntax', detail: 'unsupported' }],
    ['no tree', JSON.stringify({ message: '' }), { ok: false, failure: 'runtime', detail: 'parser returned no tree' }],
    ['a null tree', JSON.stringify({ file: null, parseError: null, message: null }), { ok: false, failure: 'runtime', detail: 'parser returned no tree' }],
    ['output that is not JSON', '{"file":', { ok: false, failure: 'runtime', detail: 'parser output is not JSON' }],
    ['a tree of the wrong shape', JSON.stringify({ file: { Stmts: [{ Cmd: 'x' }] } }), { ok: false, failure: 'runtime', detail: 'parser output has an unexpected shape' }],
    ['a statement without its flags', JSON.stringify({ file: { Stmts: [{ Comments: [], Cmd: null, Redirs: null, Semicolon: { Offset: 0, Line: 0 } }] } }), { ok: false, failure: 'runtime', detail: 'parser output has an unexpected shape' }],
    ['a parse error without text', JSON.stringify({ parseError: {} }), { ok: false, failure: 'runtime', detail: 'parser output has an unexpected shape' }],
    ['an offset that is not a number', OK_TREE.replace('"Pos":{"Offset":0', '"Pos":{"Offset":"0"'), { ok: false, failure: 'runtime', detail: 'parser output has an unexpected shape' }],
    ['a command without positions', OK_TREE.replace(/"Cmd":\{.*?\}\}/, '"Cmd":{}'), { ok: false, failure: 'runtime', detail: 'parser output has an unexpected shape' }],
  ]
  for (const [label, json, expected] of cases) {
    it(`refuses ${label}`, () => assert.deepEqual(parseWith({ alloc: 0, result: AT, data: [[AT, text(json)]] }), expected))
  }
  it('keeps an empty message as no message', () => {
    const tree = JSON.parse(OK_TREE) as { file: unknown }
    const result = parseWith({ alloc: 0, result: AT, data: [[AT, text(JSON.stringify({ message: '', parseError: null, file: tree.file }))]] })
    assert.equal(result.ok, true)
  })
})

describe('posix shell parser: a broken runtime fails closed', () => {
  const cases: [name: string, m: FakeModule, detail: string][] = [
    ['no memory export', { alloc: 0, result: AT, memory: false }, 'parser wasm exports no memory'],
    ['no wasmAlloc export', { result: AT }, 'parser wasm has no export wasmAlloc'],
    ['no process export', { alloc: 0 }, 'parser wasm has no export process'],
    ['wasmAlloc returning nothing', { alloc: 'none', result: AT }, 'wasmAlloc returned no pointer'],
    ['process returning nothing', { alloc: 0, result: 'none' }, 'process returned no pointer'],
    ['an unterminated answer', { alloc: 0, result: 65535, data: [[65535, Uint8Array.from([0x7b])]] }, 'process returned an unterminated result'],
    ['memory that grew during the parse', { alloc: 0, result: AT, grow: true, data: [[AT, text(OK_TREE)]] }, 'parser memory grew'],
  ]
  for (const [label, m, detail] of cases) {
    it(`refuses when there is ${label}`, () => assert.deepEqual(parseWith(m), { ok: false, failure: 'runtime', detail }))
  }
  it('refuses when sh-syntax did not install its Go glue', () => {
    Reflect.set(globalThis, 'Go', undefined)
    const result = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT }) }).parse('uptime')
    assert.deepEqual(result, { ok: false, failure: 'runtime', detail: 'sh-syntax did not install its Go runtime glue' })
  })
  const glue: [name: string, options: Parameters<typeof fakeGo>[0], detail: string][] = [
    ['no import object', { importObject: null }, 'sh-syntax Go glue has an unexpected shape'],
    ['an import object that is not an object', { importObject: 'x' }, 'sh-syntax Go glue has an unexpected shape'],
    ['no run function', { run: 'x' }, 'sh-syntax Go glue has an unexpected shape'],
    ['a runtime that did not exit', { exited: false }, 'parser runtime did not start cleanly'],
    ['a runtime that reports exited as a truthy non-boolean', { exited: 1 }, 'parser runtime did not start cleanly'],
    ['a runtime that exited with an error', { exitCode: 2 }, 'parser runtime did not start cleanly'],
  ]
  for (const [label, options, detail] of glue) {
    it(`refuses a Go glue with ${label}`, () => {
      fakeGo(options)
      const result = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT, data: [[AT, text(OK_TREE)]] }) }).parse('uptime')
      assert.deepEqual(result, { ok: false, failure: 'runtime', detail })
    })
  }
  it('refuses when WebAssembly is unavailable', () => {
    Reflect.set(globalThis, 'WebAssembly', undefined)
    const result = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT }) }).parse('uptime')
    assert.deepEqual(result, { ok: false, failure: 'runtime', detail: 'WebAssembly.Module is unavailable' })
  })
  it('refuses when WebAssembly is null', () => {
    Reflect.set(globalThis, 'WebAssembly', null)
    const result = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT }) }).parse('uptime')
    assert.deepEqual(result, { ok: false, failure: 'runtime', detail: 'WebAssembly.Module is unavailable' })
  })
  const instances: [name: string, exports: unknown, detail: string][] = [
    ['no exports', null, 'parser wasm did not instantiate'],
    ['exports that are not an object', 'x', 'parser wasm did not instantiate'],
    ['a null memory', { memory: null }, 'parser wasm exports no memory'],
    ['a memory without a buffer', { memory: {} }, 'parser wasm exports no memory'],
  ]
  for (const [label, exports, detail] of instances) {
    it(`refuses an instance with ${label}`, () => {
      const api = realWebAssembly as object
      Reflect.set(globalThis, 'WebAssembly', { Module: Reflect.get(api, 'Module'), Instance: class { exports = exports } })
      fakeGo()
      const result = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT }) }).parse('uptime')
      assert.deepEqual(result, { ok: false, failure: 'runtime', detail })
    })
  }
  it('refuses when WebAssembly has no Instance constructor', () => {
    const api = realWebAssembly as object
    Reflect.set(globalThis, 'WebAssembly', { Module: Reflect.get(api, 'Module') })
    fakeGo()
    const result = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT }) }).parse('uptime')
    assert.deepEqual(result, { ok: false, failure: 'runtime', detail: 'WebAssembly.Instance is unavailable' })
  })
  it('refuses a non-string input as misuse', () => {
    const parser = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT }) })
    assert.throws(() => Reflect.apply(parser.parse, parser, [undefined]), (e: unknown) => e instanceof TypeError && e.message === 'parse expects a string')
  })
})

describe('posix shell parser: runtime lifecycle', () => {
  it('compiles once and keeps a healthy runtime across parses', () => {
    fakeGo()
    let loads = 0
    let starts = 0
    const Go = Reflect.get(globalThis, 'Go') as new () => object
    Reflect.set(globalThis, 'Go', class extends Go {
      constructor() {
        super()
        starts++
      }
    })
    const parser = createPosixShellParser({ loadWasm: () => (loads++, fakeWasm({ alloc: 0, result: AT, data: [[AT, text(OK_TREE)]] })) })
    for (let i = 0; i < 3; i++) assert.equal(parser.parse('uptime').ok, true)
    assert.equal(loads, 1)
    assert.equal(starts, 1)
  })
  it('keeps the runtime after a syntax error, drops it after a runtime failure', () => {
    fakeGo()
    let starts = 0
    const Go = Reflect.get(globalThis, 'Go') as new () => object
    Reflect.set(globalThis, 'Go', class extends Go {
      constructor() {
        super()
        starts++
      }
    })
    const syntax = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT, data: [[AT, text(JSON.stringify({ parseError: { Text: 'x' } }))]] }) })
    syntax.parse('a')
    syntax.parse('b')
    assert.equal(starts, 1, 'a syntax error keeps the runtime')
    const shape = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT, data: [[AT, text('{"file":{}}')]] }) })
    shape.parse('a')
    shape.parse('b')
    assert.equal(starts, 2, 'an unexpected shape keeps the runtime too: its output is refused, the runtime is fine')
    const garbage = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT, data: [[AT, text('not json')]] }) })
    garbage.parse('a')
    garbage.parse('b')
    assert.equal(starts, 4, 'output that is not JSON drops the runtime')
    const grows = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 0, result: AT, grow: true, data: [[AT, text(OK_TREE)]] }) })
    grows.parse('a')
    grows.parse('b')
    assert.equal(starts, 6, 'a runtime whose memory grew is dropped')
  })
  it('restores memory to its state after start before every parse', () => {
    // The first parse copies the input over the answer at AT; the second must see the original answer again.
    fakeGo()
    const parser = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: AT, result: AT + 2048, data: [[AT + 2048, text(OK_TREE)], [AT, text('{}')]] }) })
    const first = parser.parse('x'.repeat(3000))
    assert.equal(first.ok, false, 'the long input overwrote the answer')
    assert.equal(parser.parse('uptime').ok, true, 'memory was restored, answer included')
  })
  it('clears memory that was zero after start', () => {
    // wasmAlloc points into a page that was all zero after start; an input left there would be read as the answer.
    fakeGo()
    const parser = createPosixShellParser({ loadWasm: () => fakeWasm({ alloc: 40_000, result: 40_000 }) })
    const first = parser.parse(OK_TREE)
    assert.equal(first.ok, true, 'the copied input is read back')
    const second = parser.parse('')
    assert.deepEqual(second, { ok: false, failure: 'runtime', detail: 'parser output is not JSON' }, 'the earlier input was cleared')
  })
  it('checks a bounded reset against the whole image, and resets all of memory once one missed a write', () => {
    // `process` writes at 30 000, above the bound (4 KiB: wasmAlloc says 0, plus the allocator's
    // page of slack; the answer ends near 1 300) and below the top region that is always reset:
    // only the check against the image sees it.
    fakeGo()
    const tree = { alloc: 0, result: AT, data: [[AT, text(OK_TREE)]] } as const
    const drifts: number[] = []
    const parser = createPosixShellParser({ loadWasm: () => fakeWasm({ ...tree, store: 30_000 }), verifyEvery: 1, onDrift: () => drifts.push(1) })
    for (let i = 0; i < 4; i++) assert.equal(parser.parse('uptime').ok, true, `parse ${i}`)
    assert.deepEqual(drifts, [1], 'found at the first reset, then every reset is whole and nothing is missed again')
    const clean: number[] = []
    const honest = createPosixShellParser({ loadWasm: () => fakeWasm(tree), verifyEvery: 1, onDrift: () => clean.push(1) })
    for (let i = 0; i < 4; i++) assert.equal(honest.parse('uptime').ok, true)
    assert.deepEqual(clean, [], 'a runtime that writes only below the bound never drifts')
  })
})
