import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { createPosixShellParser } from '../../../src/guard/shell/posix-shell-parser.js'

/*
 * createPosixShellParser calls sh-syntax's WebAssembly directly, with 22 positional arguments, and
 * reads the result as a NUL-terminated JSON string. Nothing type-checks that call: a new sh-syntax
 * whose `process` takes its arguments in another order or of another type would not fail to load,
 * it would parse differently. These tests pin the interface so such a release fails here, loudly.
 */

const require = createRequire(import.meta.url)
const wasm = readFileSync(require.resolve('sh-syntax/main.wasm'))

type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref'
interface Signature {
  readonly params: readonly ValType[]
  readonly results: readonly ValType[]
}
const VAL_TYPES: Readonly<Record<number, ValType>> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' }

interface WasmInterface {
  /** `module.name` of every import. */
  readonly imports: readonly string[]
  /** `name kind` of every export (kind 0 function, 1 table, 2 memory, 3 global). */
  readonly exports: readonly string[]
  /** Signature of every exported function. */
  readonly signatures: ReadonlyMap<string, Signature>
}

/** Reads imports, exports and exported function signatures from the binary's type, import, function and export sections. */
function readInterface(bytes: Uint8Array): WasmInterface {
  let at = 8
  const byte = (): number => {
    const b = bytes[at++]
    if (b === undefined) throw new Error('truncated wasm')
    return b
  }
  const u32 = (): number => {
    let result = 0
    for (let shift = 0; ; shift += 7) {
      const b = byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return result
    }
  }
  const name = (): string => {
    const length = u32()
    const text = Buffer.from(bytes.subarray(at, at + length)).toString('utf8')
    at += length
    return text
  }
  const valType = (): ValType => {
    const t = VAL_TYPES[byte()]
    if (t === undefined) throw new Error('unknown value type')
    return t
  }
  const limits = (): void => {
    const flags = u32()
    u32()
    if (flags & 1) u32()
  }
  const types: Signature[] = []
  const functionTypes: number[] = []
  const exports = new Map<string, number>()
  const importNames: string[] = []
  const exportNames: string[] = []
  while (at < bytes.length) {
    const id = byte()
    const size = u32()
    const end = at + size
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        if (byte() !== 0x60) throw new Error('expected a function type')
        const params = Array.from({ length: u32() }, valType)
        const results = Array.from({ length: u32() }, valType)
        types.push({ params, results })
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        importNames.push(`${name()}.${name()}`)
        const kind = byte()
        if (kind === 0) functionTypes.push(u32())
        else if (kind === 1) (byte(), limits())
        else if (kind === 2) limits()
        else if (kind === 3) (valType(), byte())
        else throw new Error('unknown import kind')
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) functionTypes.push(u32())
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const exportName = name()
        const kind = byte()
        const index = u32()
        exportNames.push(`${exportName} ${kind}`)
        if (kind === 0) exports.set(exportName, index)
      }
    }
    at = end
  }
  const signatures = new Map<string, Signature>()
  for (const [exportName, index] of exports) {
    const signature = types[functionTypes[index] ?? -1]
    if (signature !== undefined) signatures.set(exportName, signature)
  }
  return { imports: importNames, exports: exportNames, signatures }
}

describe('sh-syntax WebAssembly interface', () => {
  const { imports, exports, signatures } = readInterface(wasm)

  it('process takes the 22 arguments createPosixShellParser passes, in this order and of these types', () => {
    // filepath (ptr, len, cap), text (ptr, len, cap), print, keepComments, variant, stopAt (ptr,
    // len, cap), recoverErrors, then nine printer options; bools and ints are all i32 in TinyGo.
    assert.deepEqual(signatures.get('process'), { params: Array<ValType>(22).fill('i32'), results: ['i32'] })
  })

  it('wasmAlloc takes a length and returns a pointer; the Go runtime entry points are there', () => {
    assert.deepEqual(signatures.get('wasmAlloc'), { params: ['i32'], results: ['i32'] })
    assert.deepEqual(signatures.get('_start'), { params: [], results: [] })
    assert.deepEqual(signatures.get('resume'), { params: [], results: [] })
  })

  it('exports a memory and imports only the Go glue and WASI calls that sh-syntax installs', () => {
    assert.ok(exports.includes('memory 2'), exports.join(', '))
    assert.deepEqual([...imports].sort(), [
      'gojs.runtime.ticks',
      'gojs.syscall/js.finalizeRef',
      'gojs.syscall/js.stringVal',
      'gojs.syscall/js.valueCall',
      'gojs.syscall/js.valueGet',
      'gojs.syscall/js.valueIndex',
      'gojs.syscall/js.valueLength',
      'gojs.syscall/js.valueLoadString',
      'gojs.syscall/js.valuePrepareString',
      'gojs.syscall/js.valueSet',
      'wasi_snapshot_preview1.fd_write',
      'wasi_snapshot_preview1.proc_exit',
      'wasi_snapshot_preview1.random_get',
    ])
  })

  const parser = createPosixShellParser()
  const at = (offset: number, col = offset + 1): { Offset: number; Line: number; Col: number } => ({ Offset: offset, Line: 1, Col: col })

  it('returns this exact tree for a known line: arguments land where the parser means them to', () => {
    // keepComments (the comment is there), print off (a tree, not text), and no file name.
    assert.deepEqual(parser.parse("ls -l 'a b' # note"), {
      ok: true,
      file: {
        Stmts: [
          {
            Comments: [{ Hash: at(12), Text: ' note', Pos: at(12), End: at(18) }],
            Cmd: { Pos: at(0), End: at(11) },
            Redirs: [],
            Negated: false,
            Background: false,
            Coprocess: false,
            Semicolon: { Offset: 0, Line: 0, Col: 0 },
            Position: at(0),
            Pos: at(0),
            End: at(11),
          },
        ],
        Last: [],
        Name: '',
        Pos: at(0),
        End: at(18),
      },
    })
  })

  it('parses as POSIX sh, not bash: the variant argument lands where it is meant to', () => {
    assert.deepEqual(parser.parse('a=(1 2)'), { ok: false, failure: 'syntax', detail: '1:3: arrays are a bash/mksh/zsh feature; tried parsing as posix' })
  })
})
