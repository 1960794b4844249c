import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
// Importing sh-syntax installs its Go runtime glue (`globalThis.Go` and the shims it needs).
import { LangVariant } from 'sh-syntax'
import { z } from 'zod'
import { takeMemoryImage, type MemoryImage } from './memory-image.js'

const offset = z.looseObject({ Offset: z.number().int(), Line: z.number().int() })

/** The parts of mvdan/sh's syntax tree the shell guard looks at. */
const shFileSchema = z.looseObject({
  Stmts: z.array(
    z.looseObject({
      Comments: z.array(z.unknown()),
      Cmd: z.looseObject({ Pos: offset, End: offset }).nullable(),
      Redirs: z.array(z.unknown()).nullable(),
      Negated: z.boolean(),
      Background: z.boolean(),
      Coprocess: z.boolean(),
      Semicolon: offset,
    }),
  ),
  Last: z.array(z.unknown()).nullish(),
})
export type ShFile = z.infer<typeof shFileSchema>

const resultSchema = z.looseObject({
  file: shFileSchema.nullish(),
  parseError: z.looseObject({ Text: z.string() }).nullish(),
  message: z.string().nullish(),
})

/** Why the parser did not return a tree; the guard turns every one of these into a refusal. */
export type PosixParseFailure = 'syntax' | 'runtime'

export type PosixParseResult =
  | { readonly ok: true; readonly file: ShFile }
  | { readonly ok: false; readonly failure: PosixParseFailure; readonly detail: string }

/** Parses one shell line; never throws for bad input or a broken runtime (both are results). */
export interface PosixShellParser {
  parse(input: string): PosixParseResult
}

export interface PosixShellParserOptions {
  /** Loads the parser's WebAssembly; defaults to sh-syntax's own main.wasm. */
  readonly loadWasm?: () => Uint8Array
  /**
   * Every how many parses the whole of memory is compared with the image after a bounded restore
   * (default 64; 1 checks every parse). A mismatch restores all of it, calls `onDrift` and makes
   * every later restore whole.
   */
  readonly verifyEvery?: number
  /** Called when a bounded restore left memory different from the image; default: a process warning. */
  readonly onDrift?: () => void
}

type WasmFunction = (...args: readonly (number | boolean)[]) => unknown

interface Runtime {
  /** The instance's linear memory as it is now (the buffer is replaced when memory grows). */
  readonly buffer: () => ArrayBuffer
  readonly wasmAlloc: WasmFunction
  readonly process: WasmFunction
  /** Linear memory right after the Go runtime started, before any parse. */
  readonly image: MemoryImage
  /**
   * How far up the last parse may have written (see callProcess); undefined while memory is still
   * exactly the image, the memory's size when the next restore must be whole.
   */
  dirtyBelow: number | undefined
}

/**
 * How far above the next free heap block a parse may still have written: the allocator keeps a
 * couple of words of its own in the free block it resumes from (seen: 8 bytes). A page of margin
 * costs a 4 KiB reset; the periodic check against the whole image is what proves it enough.
 */
const ALLOCATOR_SLACK = 4096
const encoder = new TextEncoder()
const decoder = new TextDecoder()

// Node's WebAssembly global has no type declarations under this project's libs; it is reached
// through globalThis and checked at run time instead.
function wasmConstructor(name: 'Module' | 'Instance'): (...args: unknown[]) => unknown {
  const api: unknown = Reflect.get(globalThis, 'WebAssembly')
  const ctor: unknown = typeof api === 'object' && api !== null ? Reflect.get(api, name) : undefined
  if (typeof ctor !== 'function') throw new TypeError(`WebAssembly.${name} is unavailable`)
  return (...args) => Reflect.construct(ctor, args)
}

function exportedFunction(exports: object, name: string): WasmFunction {
  const fn: unknown = Reflect.get(exports, name)
  if (typeof fn !== 'function') throw new TypeError(`parser wasm has no export ${name}`)
  return (...args) => Reflect.apply(fn, undefined, args)
}

/** Instantiates the module and starts its Go runtime once, keeping an image of its memory. */
function startRuntime(compiled: unknown): Runtime {
  const Go: unknown = Reflect.get(globalThis, 'Go')
  if (typeof Go !== 'function') throw new TypeError('sh-syntax did not install its Go runtime glue')
  const go = Object(Reflect.construct(Go, []))
  const importObject: unknown = Reflect.get(go, 'importObject')
  const run: unknown = Reflect.get(go, 'run')
  if (typeof importObject !== 'object' || importObject === null || typeof run !== 'function') {
    throw new TypeError('sh-syntax Go glue has an unexpected shape')
  }
  const instance: unknown = wasmConstructor('Instance')(compiled, importObject)
  const exports: unknown = typeof instance === 'object' && instance !== null ? Reflect.get(instance, 'exports') : undefined
  if (typeof exports !== 'object' || exports === null) throw new TypeError('parser wasm did not instantiate')
  // main() is empty and returns at once; sh-syntax too calls `process` after the runtime finished main.
  const exited: unknown = Reflect.apply(run, go, [instance])
  void Promise.resolve(exited).catch(() => undefined)
  if (Reflect.get(go, 'exited') !== true || Reflect.get(go, 'exitCode') !== 0) {
    throw new TypeError('parser runtime did not start cleanly')
  }
  const memory: unknown = Reflect.get(exports, 'memory')
  const buffer = (): ArrayBuffer => {
    const current: unknown = typeof memory === 'object' && memory !== null ? Reflect.get(memory, 'buffer') : undefined
    if (!(current instanceof ArrayBuffer)) throw new TypeError('parser wasm exports no memory')
    return current
  }
  const initial = buffer()
  return {
    buffer,
    wasmAlloc: exportedFunction(exports, 'wasmAlloc'),
    process: exportedFunction(exports, 'process'),
    image: takeMemoryImage(new Uint8Array(initial)),
    dirtyBelow: undefined,
  }
}

/**
 * Writes the input, runs one parse and reads its answer; then notes how far up the parse may have
 * written. The Go runtime's allocator hands out heap blocks in address order from where it last
 * stopped, its stack and globals lie below the heap and its block metadata at the top of memory,
 * so below the next block it would hand out (one more wasmAlloc, plus ALLOCATOR_SLACK) and the top
 * is everything a parse can have written, as long as it never collected garbage (a collection traps: see
 * createPosixShellParser). The caller checks that bound now and then against the whole image.
 */
function callProcess(rt: Runtime, text: Uint8Array): string {
  const pointer = rt.wasmAlloc(text.byteLength)
  if (typeof pointer !== 'number') throw new TypeError('wasmAlloc returned no pointer')
  new Uint8Array(rt.buffer()).set(text, pointer)
  // sh-syntax's processor arguments: filepath, text (pointer, length, capacity), print,
  // keepComments, variant, stopAt, recoverErrors, then printer options (unused when parsing).
  // Nothing type-checks this call: the version is pinned exactly and the interface is checked by
  // test/guard/shell/sh-syntax-abi.test.ts.
  const result = rt.process(
    0, 0, 0,
    pointer, text.byteLength, text.byteLength,
    false, true, LangVariant.LangPOSIX,
    0, 0, 0,
    0,
    false, 2, true, true, true, false, false, false, false,
  )
  if (typeof result !== 'number') throw new TypeError('process returned no pointer')
  const out = new Uint8Array(rt.buffer()).subarray(result)
  const end = out.indexOf(0)
  if (end < 0) throw new TypeError('process returned an unterminated result')
  const json = decoder.decode(out.subarray(0, end))
  const next = rt.wasmAlloc(1)
  rt.dirtyBelow = typeof next === 'number' ? Math.max(next + ALLOCATOR_SLACK, pointer + text.byteLength, result + end + 1) : rt.image.size
  return json
}

function defaultWasm(): Uint8Array {
  return readFileSync(createRequire(import.meta.url).resolve('sh-syntax/main.wasm'))
}

/**
 * Creates a parser for one line of POSIX shell with mvdan/sh (sh-syntax's WebAssembly, comments
 * kept). sh-syntax starts a new Go runtime per parse (about 100 ms); this one compiles and starts
 * it once, on first use, and before each parse puts back the memory image taken right after start,
 * so a parse costs a memory reset instead of a runtime start and sees exactly the state a fresh
 * runtime would. Reusing memory as a parse left it is unsafe: once the heap fills, TinyGo's
 * collector runs and traps (after about 40 parses of 4 KiB lines). The reset covers only what the
 * last parse may have written (see callProcess: about 1.7 MiB of the 10 MiB for a short line), and
 * every `verifyEvery` parses the whole of memory is compared with the image, so a bound that was
 * wrong is found, repaired and never trusted again. A syntax error, a trap, malformed output or
 * memory growth is a `{ ok: false }` result (fail closed); after anything but a syntax error the
 * runtime is dropped and the next parse starts a new one. The parse is synchronous, so calls
 * cannot interleave.
 */
export function createPosixShellParser(options: PosixShellParserOptions = {}): PosixShellParser {
  const loadWasm = options.loadWasm ?? defaultWasm
  const verifyEvery = Math.max(1, Math.floor(options.verifyEvery ?? 64))
  const onDrift =
    options.onDrift ?? (() => process.emitWarning('the shell parser found memory a bounded reset missed; resetting all of it from now on', { code: 'AIRLOCK_SHELL_PARSER_DRIFT' }))
  let compiled: unknown
  let runtime: Runtime | undefined
  let resets = 0
  let whole = false

  function reset(rt: Runtime): void {
    if (rt.dirtyBelow === undefined) return
    const memory = new Uint8Array(rt.buffer())
    rt.image.restore(memory, whole ? undefined : rt.dirtyBelow)
    rt.dirtyBelow = undefined
    if (whole || resets++ % verifyEvery !== 0 || rt.image.matches(memory)) return
    rt.image.restore(memory)
    whole = true
    onDrift()
  }

  return {
    parse(input) {
      if (typeof input !== 'string') throw new TypeError('parse expects a string')
      let json: string
      try {
        compiled ??= wasmConstructor('Module')(loadWasm())
        runtime ??= startRuntime(compiled)
        const rt = runtime
        reset(rt)
        json = callProcess(rt, encoder.encode(input))
        if (rt.buffer().byteLength !== rt.image.size) throw new TypeError('parser memory grew')
      } catch (error) {
        runtime = undefined
        return { ok: false, failure: 'runtime', detail: error instanceof Error ? error.message : 'unknown failure' }
      }
      let raw: unknown
      try {
        raw = JSON.parse(json)
      } catch {
        runtime = undefined
        return { ok: false, failure: 'runtime', detail: 'parser output is not JSON' }
      }
      const parsed = resultSchema.safeParse(raw)
      if (!parsed.success) return { ok: false, failure: 'runtime', detail: 'parser output has an unexpected shape' }
      const { file, parseError, message } = parsed.data
      if (parseError != null) return { ok: false, failure: 'syntax', detail: parseError.Text }
      if (message != null && message !== '') return { ok: false, failure: 'syntax', detail: message }
      if (file == null) return { ok: false, failure: 'runtime', detail: 'parser returned no tree' }
      return { ok: true, file }
    },
  }
}
