import { count, MAX_PRODUCED_CHARS, MAX_SERIES_ROWS, seriesRows, tooLarge } from './value-size-limits.js'
import { isObject, walkTree } from './walk-tree.js'
import type { Json } from './walk-tree.js'

/** MariaDB's Sequence engine tables, `seq_1_to_10` or `seq_0_to_100_step_5`, made up on demand. */
const SEQUENCE_TABLE = /^seq_(\d+)_to_(\d+)(?:_step_(\d+))?$/i

function callName(node: Json): string | undefined {
  const name = node['name']
  if (node['type'] !== 'function' || !isObject(name) || name['schema'] !== undefined && name['schema'] !== null) return undefined
  const parts = Array.isArray(name['name']) ? name['name'] : []
  const only = parts.length === 1 && isObject(parts[0]) ? parts[0]['value'] : undefined
  return typeof only === 'string' ? only.toLowerCase() : undefined
}

function args(node: Json): unknown[] {
  const list = node['args']
  return isObject(list) && Array.isArray(list['value']) ? list['value'] : []
}

/** A number written in the statement: a literal (the parser leaves `1e9` as a column name), or + - * / on those. */
export function mysqlNumber(node: unknown): number | undefined {
  if (!isObject(node)) return undefined
  const value = node['value']
  if (node['type'] === 'number' && typeof value === 'number') return value
  const text = node['type'] === 'column_ref' ? node['column'] : typeof value === 'string' && /quote_string$/.test(String(node['type'])) ? value : undefined
  if (typeof text === 'string' && text.trim() !== '' && Number.isFinite(Number(text))) return Number(text)
  if (node['type'] === 'unary_expr' && node['operator'] === '-') {
    const inner = mysqlNumber(node['expr'])
    return inner === undefined ? undefined : -inner
  }
  if (node['type'] === 'binary_expr') {
    const left = mysqlNumber(node['left'])
    const right = mysqlNumber(node['right'])
    if (left === undefined || right === undefined) return undefined
    if (node['operator'] === '+') return left + right
    if (node['operator'] === '-') return left - right
    if (node['operator'] === '*') return left * right
    if (node['operator'] === '/') return right === 0 ? undefined : left / right
  }
  return undefined
}

/** The fewest characters an expression produces, counting an unknown string as one character. */
function producedChars(node: unknown): number {
  if (!isObject(node)) return 1
  if (typeof node['value'] === 'string' && /quote_string$/.test(String(node['type']))) return node['value'].length
  const name = callName(node)
  const [first, second] = args(node)
  if (name === 'repeat') return producedChars(first) * (count(mysqlNumber(second)) ?? 1)
  if (name === 'lpad' || name === 'rpad') return count(mysqlNumber(second)) ?? 1
  if (name === 'space') return count(mysqlNumber(first)) ?? 1
  if (name === 'concat' || name === 'concat_ws') return args(node).reduce<number>((sum, arg) => sum + producedChars(arg), 0)
  return 1
}

/**
 * Refuses a MySQL/MariaDB statement whose visible sizes exceed the limits in value-size-limits.ts.
 * @throws GuardError SQL_VALUE_TOO_LARGE
 */
export function checkMysqlValueSizes(tree: unknown): void {
  let rows = 1
  walkTree(tree, (node) => {
    // A FROM item (a column reference names a table too, but also a column).
    const table = node['table']
    const match = typeof table === 'string' && !('column' in node) ? SEQUENCE_TABLE.exec(table) : null
    if (match !== null) {
      rows *= seriesRows(Number(match[1]), Number(match[2]), match[3] === undefined ? 1 : Number(match[3])) ?? 1
      if (rows > MAX_SERIES_ROWS) throw tooLarge(`the sequence table ${match[0]}`, rows, MAX_SERIES_ROWS)
    }
    const name = callName(node)
    if (name === 'repeat' || name === 'lpad' || name === 'rpad' || name === 'space' || name === 'concat' || name === 'concat_ws') {
      const chars = producedChars(node)
      if (chars > MAX_PRODUCED_CHARS) throw tooLarge(`${name.toUpperCase()}(…)`, chars, MAX_PRODUCED_CHARS)
    }
  })
}
