import { RdsDataError } from './rds-data-types.js'

export interface RewrittenSql {
  /** SQL with engine placeholders ($1… for PostgreSQL, ? for MySQL). */
  readonly text: string
  /** For each placeholder in order, the parameter name it stands for. */
  readonly names: readonly string[]
}

const NAME_START = /[A-Za-z_]/
const NAME_PART = /[A-Za-z0-9_]/

/**
 * Replaces the Data API's `:name` placeholders with the engine's, skipping string literals,
 * quoted identifiers, comments, dollar quotes and PostgreSQL `::` casts.
 * @throws RdsDataError BadRequestException for a placeholder with no matching parameter.
 */
export function rewriteNamedParameters(
  sql: string,
  dialect: 'postgres' | 'mysql',
  known: ReadonlySet<string>,
  placeholder: (name: string, position: number) => string,
): RewrittenSql {
  let out = ''
  const names: string[] = []
  let i = 0
  const copyUntil = (end: number): void => {
    out += sql.slice(i, end)
    i = end
  }
  while (i < sql.length) {
    const c = sql[i] ?? ''
    const next = sql[i + 1] ?? ''
    if (c === "'" || c === '"' || (c === '`' && dialect === 'mysql')) {
      copyUntil(quotedEnd(sql, i, c, dialect === 'mysql'))
    } else if (c === '-' && next === '-') {
      copyUntil(lineEnd(sql, i))
    } else if (c === '#' && dialect === 'mysql') {
      copyUntil(lineEnd(sql, i))
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2)
      copyUntil(end === -1 ? sql.length : end + 2)
    } else if (c === '$' && dialect === 'postgres' && /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.test(sql.slice(i))) {
      const tag = /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(sql.slice(i))?.[0] ?? '$$'
      const end = sql.indexOf(tag, i + tag.length)
      copyUntil(end === -1 ? sql.length : end + tag.length)
    } else if (c === ':' && next === ':') {
      copyUntil(i + 2)
    } else if (c === ':' && NAME_START.test(next) && !NAME_PART.test(sql[i - 1] ?? ' ')) {
      let end = i + 1
      while (end < sql.length && NAME_PART.test(sql[end] ?? '')) end++
      const name = sql.slice(i + 1, end)
      if (!known.has(name)) throw new RdsDataError('BadRequestException', `No value specified for parameter: ${name}`)
      names.push(name)
      out += placeholder(name, names.length)
      i = end
    } else {
      copyUntil(i + 1)
    }
  }
  return { text: out, names }
}

function quotedEnd(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]
    if (backslashEscapes && c === '\\' && quote !== '`') {
      i += 2
      continue
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return sql.length
}

function lineEnd(sql: string, start: number): number {
  const end = sql.indexOf('\n', start)
  return end === -1 ? sql.length : end + 1
}
