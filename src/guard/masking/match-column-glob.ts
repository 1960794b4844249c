/** A compiled `maskColumns` key: `column` or `table.column`, with `*` and `?` wildcards. */
export interface ColumnGlob {
  readonly pattern: string
  readonly table: RegExp | undefined
  readonly column: RegExp
}

function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[$^.+()[\]{}|\\]/g, '\\$&'))).join('')
  return new RegExp(`^${body}$`, 'i')
}

export function compileColumnGlob(pattern: string): ColumnGlob {
  const dot = pattern.indexOf('.')
  if (dot === -1) return { pattern, table: undefined, column: globToRegExp(pattern) }
  return { pattern, table: globToRegExp(pattern.slice(0, dot)), column: globToRegExp(pattern.slice(dot + 1)) }
}

/**
 * True when the glob covers the column. Names compare case-insensitively. A glob with a table
 * part also covers columns whose table the database did not report (expressions, some drivers):
 * masking too much is the safe failure.
 */
export function matchColumnGlob(glob: ColumnGlob, column: { readonly name: string; readonly table?: string | undefined }): boolean {
  if (!glob.column.test(column.name)) return false
  if (glob.table === undefined || column.table === undefined || column.table === '') return true
  return glob.table.test(column.table)
}
