/**
 * Raw-text facts about MySQL/MariaDB SQL that a parser may hide or read differently from the
 * server: executable comments and statement separators.
 */
export interface MysqlTextFacts {
  /** `/*! … *\/` or `/*M! … *\/` anywhere, strings included: the server runs their contents. */
  readonly executableComment: boolean
  /** Something other than whitespace or comments follows a `;` under some server SQL mode. */
  readonly multipleStatements: boolean
  /**
   * The text reads differently to the server than to a parser, or under different SQL modes:
   * `--x`, a `/*` inside a comment, or quotes whose extent depends on NO_BACKSLASH_ESCAPES or
   * ANSI_QUOTES.
   */
  readonly confusable: boolean
}

interface LexMode {
  /** False under sql_mode NO_BACKSLASH_ESCAPES. */
  readonly backslashEscapes: boolean
  /** True under sql_mode ANSI_QUOTES: "…" is an identifier, not a string. */
  readonly ansiQuotes: boolean
}

const MODES: readonly LexMode[] = [
  { backslashEscapes: true, ansiQuotes: false },
  { backslashEscapes: false, ansiQuotes: false },
  { backslashEscapes: true, ansiQuotes: true },
  { backslashEscapes: false, ansiQuotes: true },
]

function skipQuoted(sql: string, start: number, quote: string, backslash: boolean): number {
  let j = start + 1
  while (j < sql.length) {
    const c = sql[j]
    if (backslash && c === '\\') {
      j += 2
    } else if (c === quote) {
      if (sql[j + 1] === quote) j += 2
      else return j + 1
    } else {
      j += 1
    }
  }
  return sql.length
}

function skipToLineEnd(sql: string, start: number): number {
  const end = sql.indexOf('\n', start)
  return end === -1 ? sql.length : end + 1
}

interface Lexed {
  /** Where quoted text and comments start and end; must agree across modes. */
  readonly regions: string
  readonly trailingStatement: boolean
  readonly confusable: boolean
}

function lex(sql: string, mode: LexMode): Lexed {
  const regions: number[] = []
  let seenSeparator = false
  let trailingStatement = false
  let confusable = false
  let i = 0
  const region = (end: number) => {
    regions.push(i, end)
    i = end
  }
  while (i < sql.length) {
    const c = sql[i] ?? ''
    const next = sql[i + 1] ?? ''
    if (c === "'" || c === '"' || c === '`') {
      if (seenSeparator) trailingStatement = true
      const backslash = c === "'" ? mode.backslashEscapes : c === '"' ? mode.backslashEscapes && !mode.ansiQuotes : false
      region(skipQuoted(sql, i, c, backslash))
    } else if (c === '#') {
      region(skipToLineEnd(sql, i))
    } else if (c === '-' && next === '-') {
      // MySQL needs whitespace or a control character after "--": "--x" is two minus signs to the
      // server, but some parsers take it for a comment and would not see what follows.
      if (i + 2 < sql.length && sql.charCodeAt(i + 2) > 32) {
        confusable = true
        i += 2
      } else {
        region(skipToLineEnd(sql, i))
      }
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      const stop = end === -1 ? sql.length : end + 2
      // MySQL does not nest comments; a parser that does would read a different statement.
      if (sql.slice(i + 2, stop).includes('/*')) confusable = true
      region(stop)
    } else if (c === ';') {
      seenSeparator = true
      i += 1
    } else {
      if (seenSeparator && !/\s/.test(c)) trailingStatement = true
      i += 1
    }
  }
  return { regions: regions.join(','), trailingStatement, confusable }
}

/** Scans under every quoting mode the server might run with; any positive counts (fail closed). */
export function scanMysqlText(sql: string): MysqlTextFacts {
  const lexed = MODES.map((mode) => lex(sql, mode))
  return {
    executableComment: /\/\*[!]|\/\*m!/i.test(sql),
    multipleStatements: lexed.some((l) => l.trailingStatement),
    confusable: lexed.some((l) => l.confusable) || lexed.some((l) => l.regions !== lexed[0]?.regions),
  }
}
