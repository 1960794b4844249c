import { GuardError } from '../../errors.js'
import { createPosixShellParser } from './posix-shell-parser.js'
import type { PosixShellParser, ShFile } from './posix-shell-parser.js'

export const MAX_COMMAND_BYTES = 4096

/** Unquoted characters a plain word may contain; everything else must be quoted or is refused. */
const UNQUOTED_SAFE = /^[A-Za-z0-9._@:+=,/%^-]$/

const UNQUOTED_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/[;]/, 'command separator ";"'],
  [/[&]/, 'operator "&" (background or &&)'],
  [/[|]/, 'pipe or "||"'],
  [/[<>]/, 'redirection'],
  [/[$]/, 'expansion ("$")'],
  [/[`]/, 'command substitution (backtick)'],
  [/[*?[\]]/, 'unquoted glob character'],
  [/[{}]/, 'brace expansion or group'],
  [/[~]/, 'tilde expansion'],
  [/[#]/, 'comment'],
  [/[!]/, 'negation or history expansion'],
  [/[()]/, 'subshell or function syntax'],
  [/[\\]/, 'backslash escape'],
]

// One parser for the process: its Go runtime starts on first use and is reused from then on.
const defaultParser = createPosixShellParser()

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', 'function', 'select', 'time'])

function refuse(reason: string, options?: ErrorOptions): GuardError {
  return new GuardError('COMMAND_SYNTAX_REFUSED', `command refused: ${reason}`, options)
}

interface LexedWord {
  readonly value: string
  readonly start: number
  readonly end: number
  /** The word exactly as typed (quotes included). */
  readonly raw: string
}

/** A deliberately small lexer: plain characters, '…' and "…" without expansions or escapes. */
function lexWords(input: string): LexedWord[] {
  const words: LexedWord[] = []
  let i = 0
  while (i < input.length) {
    if (input[i] === ' ') {
      i++
      continue
    }
    const start = i
    let value = ''
    while (i < input.length && input[i] !== ' ') {
      const c = input.charAt(i)
      if (c === "'") {
        const close = input.indexOf("'", i + 1)
        if (close < 0) throw refuse('unterminated single quote')
        value += input.slice(i + 1, close)
        i = close + 1
      } else if (c === '"') {
        let j = i + 1
        while (j < input.length && input[j] !== '"') {
          const q = input.charAt(j)
          if (q === '$') throw refuse('expansion ("$") inside double quotes')
          if (q === '`') throw refuse('command substitution (backtick) inside double quotes')
          if (q === '\\') throw refuse('backslash escape inside double quotes')
          if (q === '!') throw refuse('"!" inside double quotes')
          j++
        }
        if (j >= input.length) throw refuse('unterminated double quote')
        value += input.slice(i + 1, j)
        i = j + 1
      } else if (UNQUOTED_SAFE.test(c)) {
        value += c
        i++
      } else {
        const reason = UNQUOTED_REASONS.find(([re]) => re.test(c))?.[1] ?? `character ${JSON.stringify(c)}`
        throw refuse(reason)
      }
    }
    words.push({ value, start, end: i, raw: input.slice(start, i) })
  }
  return words
}

/** A refusal of the parser cross-check, told apart from the lexer's in logs and the audit trail. */
function disagree(reason: string): GuardError {
  return refuse(`the POSIX parser sees ${reason}`)
}

/** Cross-checks the structure with a real POSIX shell parser: one simple statement, nothing else. */
function checkStructure(file: ShFile, first: LexedWord, last: LexedWord): void {
  if (file.Last != null && file.Last.length > 0) throw disagree('trailing comment')
  if (file.Stmts.length !== 1) throw disagree('more than one command')
  const stmt = file.Stmts[0]
  if (stmt === undefined || stmt.Cmd === null) throw disagree('no command')
  if (stmt.Comments.length > 0) throw disagree('comment')
  if (stmt.Redirs != null && stmt.Redirs.length > 0) throw disagree('redirection')
  if (stmt.Negated) throw disagree('negation')
  if (stmt.Background || stmt.Coprocess) throw disagree('background job')
  if (stmt.Semicolon.Line !== 0) throw disagree('command separator ";"')
  // The parser must see the command exactly where our lexer saw the words.
  if (stmt.Cmd.Pos.Offset !== first.start || stmt.Cmd.End.Offset !== last.end) {
    throw disagree('the command at other offsets than the lexer')
  }
}

/**
 * Splits a command line as a POSIX shell would, accepting only one simple command of plain words
 * (literal, '…', or "…" without expansions). Any byte outside printable ASCII is refused, quoted
 * or not: nothing an allowed template accepts needs it, and look-alike characters are a classic
 * way to make a check and a shell disagree. A strict lexer decides the words; a real POSIX parser
 * (mvdan/sh, kept warm, well under a millisecond per line) must then agree that the line is one
 * simple command at the same offsets. The parser is defence in depth: every refusal in the escape
 * fixtures already comes from the lexer. If it cannot run, the command is refused.
 * @param parser defaults to one parser per process, started on first use.
 * @throws GuardError COMMAND_SYNTAX_REFUSED with the reason in the message.
 */
export async function tokenizeCommand(input: string, parser: PosixShellParser = defaultParser): Promise<string[]> {
  if (typeof input !== 'string') throw new TypeError('tokenizeCommand expects a string')
  if (Buffer.byteLength(input, 'utf8') > MAX_COMMAND_BYTES) throw refuse(`longer than ${MAX_COMMAND_BYTES} bytes`)
  if (input.includes('\0')) throw refuse('NUL byte')
  if (/[\n\r]/.test(input)) throw refuse('newline or carriage return')
  if (/[\x00-\x1f\x7f]/.test(input)) throw refuse('control character')
  if (/[^\x20-\x7e]/.test(input)) throw refuse('non-ASCII character')

  const words = lexWords(input)
  const first = words[0]
  const last = words.at(-1)
  if (first === undefined || last === undefined) throw refuse('empty command')
  if (first.raw.includes('=')) throw refuse('variable assignment prefix')
  if (RESERVED.has(first.raw)) throw refuse(`reserved word "${first.raw}"`)

  const parsed = parser.parse(input)
  if (!parsed.ok) {
    const reason = parsed.failure === 'syntax' ? 'does not parse as a POSIX shell command' : 'shell parser unavailable'
    throw refuse(reason, { cause: parsed })
  }
  checkStructure(parsed.file, first, last)
  return words.map((w) => w.value)
}
