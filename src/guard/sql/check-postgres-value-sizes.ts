import { count, MAX_PRODUCED_CHARS, MAX_SERIES_ROWS, seriesRows, tooLarge } from './value-size-limits.js'
import { isObject, stringList, walkTree } from './walk-tree.js'
import type { Json } from './walk-tree.js'

/** The built-in's name when a call is unqualified or qualified with pg_catalog, else undefined. */
function builtinName(call: Json): string | undefined {
  const parts = stringList(call['funcname'])
  if (parts.length === 1 || (parts.length === 2 && parts[0] === 'pg_catalog')) return parts.at(-1)
  return undefined
}

function args(call: Json): unknown[] {
  return Array.isArray(call['args']) ? call['args'] : []
}

/** A number written in the statement: a literal, a cast literal, or + - * / on those. */
export function postgresNumber(node: unknown): number | undefined {
  if (!isObject(node)) return undefined
  const constant = node['A_Const']
  if (isObject(constant)) {
    const ival = constant['ival']
    if (isObject(ival)) return typeof ival['ival'] === 'number' ? ival['ival'] : 0
    const fval = isObject(constant['fval']) ? constant['fval']['fval'] : undefined
    const sval = isObject(constant['sval']) ? constant['sval']['sval'] : undefined
    const text = typeof fval === 'string' ? fval : typeof sval === 'string' ? sval : undefined
    return text !== undefined && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined
  }
  const cast = node['TypeCast']
  if (isObject(cast)) return postgresNumber(cast['arg'])
  const expr = node['A_Expr']
  if (isObject(expr) && expr['kind'] === 'AEXPR_OP') {
    const op = stringList(expr['name']).at(-1)
    const right = postgresNumber(expr['rexpr'])
    if (expr['lexpr'] === undefined) return op === '-' && right !== undefined ? -right : op === '+' ? right : undefined
    const left = postgresNumber(expr['lexpr'])
    if (left === undefined || right === undefined) return undefined
    if (op === '+') return left + right
    if (op === '-') return left - right
    if (op === '*') return left * right
    if (op === '/') return right === 0 ? undefined : left / right
  }
  return undefined
}

/** The fewest characters an expression produces, counting an unknown string as one character. */
function producedChars(node: unknown): number {
  if (!isObject(node)) return 1
  const constant = node['A_Const']
  if (isObject(constant) && isObject(constant['sval']) && typeof constant['sval']['sval'] === 'string') return constant['sval']['sval'].length
  const expr = node['A_Expr']
  if (isObject(expr) && stringList(expr['name']).at(-1) === '||') return producedChars(expr['lexpr']) + producedChars(expr['rexpr'])
  const call = node['FuncCall']
  if (!isObject(call)) return 1
  const name = builtinName(call)
  const [first, second] = args(call)
  if (name === 'repeat') return producedChars(first) * (count(postgresNumber(second)) ?? 1)
  if (name === 'lpad' || name === 'rpad') return count(postgresNumber(second)) ?? 1
  if (name === 'concat') return args(call).reduce<number>((sum, arg) => sum + producedChars(arg), 0)
  return 1
}

/**
 * Refuses a PostgreSQL statement whose visible sizes exceed the limits in value-size-limits.ts.
 * @throws GuardError SQL_VALUE_TOO_LARGE
 */
export function checkPostgresValueSizes(tree: unknown): void {
  let rows = 1
  walkTree(tree, (node) => {
    const expr = node['A_Expr']
    if (isObject(expr) && stringList(expr['name']).at(-1) === '||') {
      const chars = producedChars(node)
      if (chars > MAX_PRODUCED_CHARS) throw tooLarge('|| of repeated or padded strings', chars, MAX_PRODUCED_CHARS)
    }
    const call = node['FuncCall']
    if (!isObject(call)) return
    const name = builtinName(call)
    if (name === 'repeat' || name === 'lpad' || name === 'rpad' || name === 'concat') {
      const chars = producedChars(node)
      if (chars > MAX_PRODUCED_CHARS) throw tooLarge(`${name}(…)`, chars, MAX_PRODUCED_CHARS)
    }
    if (name === 'generate_series') {
      const [start, stop, step] = args(call)
      const series = seriesRows(postgresNumber(start), postgresNumber(stop), step === undefined ? 1 : postgresNumber(step))
      if (series !== undefined) rows *= series
      if (rows > MAX_SERIES_ROWS) throw tooLarge('generate_series(…)', rows, MAX_SERIES_ROWS)
    }
    if (name === 'array_fill') {
      const dims = args(call)[1]
      const list = isObject(dims) && isObject(dims['A_ArrayExpr']) ? dims['A_ArrayExpr']['elements'] : undefined
      const elements = (Array.isArray(list) ? list : []).reduce<number>((product, dim) => product * (count(postgresNumber(dim)) ?? 1), 1)
      if (elements > MAX_SERIES_ROWS) throw tooLarge('array_fill(…)', elements, MAX_SERIES_ROWS)
    }
  })
}
