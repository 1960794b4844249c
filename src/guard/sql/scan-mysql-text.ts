/**
 * Raw-text facts about MySQL/MariaDB SQL that a parser may hide or read differently from the
 * server: executable comments and statement separators.
 */
export interface MysqlTextFacts {
  /** `/*! … *\/` or `/*M! … *\/` anywhere, strings included: the server runs their contents. */
  readonly executableComment: boolean
  /** Something other than whitespace or comments follows a `;` under some server SQL mode. */
  readonly multipleStatements: boolean
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

/** True when something other than whitespace or comments follows a `;` under this mode. */
function hasTrailingStatement(sql: string, mode: LexMode): boolean {
  let seenSeparator = false
  let i = 0
  while (i < sql.length) {
    const c = sql[i] ?? ''
    const next = sql[i + 1] ?? ''
    if (c === "'") {
      if (seenSeparator) return true
      i = skipQuoted(sql, i, c, mode.backslashEscapes)
    } else if (c === '"') {
      if (seenSeparator) return true
      i = skipQuoted(sql, i, c, mode.backslashEscapes && !mode.ansiQuotes)
    } else if (c === '`') {
      if (seenSeparator) return true
      i = skipQuoted(sql, i, c, false)
    } else if (c === '#') {
      i = skipToLineEnd(sql, i)
    } else if (c === '-' && next === '-' && (i + 2 >= sql.length || (sql.charCodeAt(i + 2) <= 32))) {
      // MySQL needs whitespace or a control character after "--"; "--x" is two minus signs.
      i = skipToLineEnd(sql, i)
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      i = end === -1 ? sql.length : end + 2
    } else if (c === ';') {
      seenSeparator = true
      i += 1
    } else {
      if (seenSeparator && !/\s/.test(c)) return true
      i += 1
    }
  }
  return false
}

/** Scans under every quoting mode the server might run with; any positive counts (fail closed). */
export function scanMysqlText(sql: string): MysqlTextFacts {
  return {
    executableComment: /\/\*[!]|\/\*m!/i.test(sql),
    multipleStatements: MODES.some((mode) => hasTrailingStatement(sql, mode)),
  }
}
