import type { MaskedColumnTest } from './masked-column-test.js'
import { maskedColumnExplained, maskedColumnUsed, maskingBypassed } from './masked-column-test.js'
import { isObject, walkTree } from './walk-tree.js'
import type { Json } from './walk-tree.js'

function isSelect(node: unknown): node is Json {
  return isObject(node) && node['type'] === 'select'
}

/** A select that is a branch of UNION/INTERSECT/EXCEPT takes the first branch's labels. */
function inSetOperation(select: Json, branches: ReadonlySet<Json>): boolean {
  return isObject(select['_next']) || branches.has(select)
}

/** The column a node names (`column_ref`, UPDATE … SET items, ALTER definitions). */
function columnName(node: Json): string | undefined {
  const column = node['column']
  if (typeof column === 'string') return column
  const expr = isObject(column) ? column['expr'] : undefined
  return isObject(expr) && typeof expr['value'] === 'string' ? expr['value'] : undefined
}

function selectItems(select: Json): Json[] {
  const columns = Array.isArray(select['columns']) ? select['columns'] : []
  return columns.filter(isObject)
}

function isStar(node: unknown): node is Json {
  return isObject(node) && node['type'] === 'column_ref' && columnName(node) === '*'
}

function containsStar(node: unknown): boolean {
  let found = false
  walkTree(node, (n) => {
    if (isStar(n)) found = true
  })
  return found
}

function subqueries(list: unknown): Json[] {
  const items = Array.isArray(list) ? list : []
  return items.flatMap((item: unknown) => {
    if (!isObject(item)) return []
    const ast = isObject(item['expr']) ? item['expr']['ast'] : item['ast']
    return isSelect(ast) ? [ast] : []
  })
}

function isPositional(item: unknown): boolean {
  if (!isObject(item)) return false
  const expr = isObject(item['expr']) ? item['expr'] : item
  return expr['type'] === 'number'
}

/**
 * Refuses a MySQL/MariaDB statement that could read masked columns other than through their own
 * output label; the rules are PostgreSQL's (see checkPostgresMasking) on node-sql-parser's tree.
 * @throws GuardError SQL_MASKED_COLUMN
 */
export function checkMysqlMasking(top: Json, isMasked: MaskedColumnTest): void {
  if (top['type'] === 'explain' && isSelect(top['expr'])) return checkExplainedSelect(top['expr'], isMasked)
  const asIs = new Set<Json>()
  const stars = new Set<Json>()
  const branches = new Set<Json>()
  walkTree(top, (node, key) => {
    if (key === '_next') branches.add(node)
  })
  const permitStars = (select: Json) => {
    if (inSetOperation(select, branches)) return
    for (const item of selectItems(select)) if (isStar(item['expr'])) stars.add(item['expr'])
  }
  // Only the outermost select list may name masked columns: its labels are what masking sees.
  if (isSelect(top) && !inSetOperation(top, branches)) {
    permitStars(top)
    for (const item of selectItems(top)) {
      const expr = item['expr']
      const column = isObject(expr) && expr['type'] === 'column_ref' ? columnName(expr) : undefined
      if (!isObject(expr) || column === undefined || column === '*' || !isMasked(column)) continue
      const label = item['as']
      if (label === null || label === undefined || (typeof label === 'string' && label.toLowerCase() === column.toLowerCase())) asIs.add(expr)
    }
  }
  walkTree(top, (node) => {
    // Subqueries whose columns keep their names: derived tables, CTEs without a column list, EXISTS.
    for (const select of subqueries(node['from'])) permitStars(select)
    const ctes = Array.isArray(node['with']) ? node['with'] : []
    for (const cte of ctes) {
      if (!isObject(cte) || !isObject(cte['stmt'])) continue
      const renamed = Array.isArray(cte['columns']) && cte['columns'].length > 0
      if (renamed && containsStar(cte['stmt'])) throw maskingBypassed('a column list that renames the columns of a CTE selecting *')
      if (isSelect(cte['stmt']['ast'])) permitStars(cte['stmt']['ast'])
    }
    const fn = isObject(node['name']) && Array.isArray(node['name']['name']) ? node['name']['name'][0] : undefined
    if (node['type'] === 'function' && isObject(fn) && String(fn['value']).toLowerCase() === 'exists' && isObject(node['args'])) {
      for (const select of subqueries(node['args']['value'])) permitStars(select)
    }
  })
  walkTree(top, (node) => {
    const column = columnName(node)
    if (column === '*' && node['type'] === 'column_ref') {
      if (!stars.has(node)) throw maskingBypassed('a whole row (* or alias.*) other than as a plain select-list item')
    } else if (column !== undefined && isMasked(column) && !asIs.has(node)) {
      throw maskedColumnUsed(column)
    }
    if (typeof node['join'] === 'string' && /natural/i.test(node['join'])) throw maskingBypassed('NATURAL JOIN (it joins on columns it does not name)')
    for (const using of Array.isArray(node['using']) ? node['using'] : []) {
      const name = isObject(using) ? using['value'] : using
      if (typeof name === 'string' && isMasked(name)) throw maskedColumnUsed(name)
    }
    if ((node['type'] === 'insert' || node['type'] === 'replace') && Array.isArray(node['columns'])) {
      for (const name of node['columns']) if (typeof name === 'string' && isMasked(name)) throw maskedColumnUsed(name)
    }
    if (isSelect(node)) checkSelectClauses(node, asIs, stars)
  })
}

/** Positional ORDER BY / GROUP BY and DISTINCT work on masked values unseen. */
function checkSelectClauses(select: Json, asIs: ReadonlySet<Json>, stars: ReadonlySet<Json>): void {
  const touchesMasked = selectItems(select).some((item) => isObject(item['expr']) && (asIs.has(item['expr']) || stars.has(item['expr'])))
  if (!touchesMasked) return
  if (select['distinct'] !== null && select['distinct'] !== undefined) throw maskingBypassed('DISTINCT over masked columns')
  const groupBy = select['groupby']
  const groups = Array.isArray(groupBy) ? groupBy : isObject(groupBy) && Array.isArray(groupBy['columns']) ? groupBy['columns'] : []
  const orders = Array.isArray(select['orderby']) ? select['orderby'] : []
  if ([...groups, ...orders].some(isPositional)) throw maskingBypassed('ORDER BY or GROUP BY by position over masked columns')
}

/** EXPLAIN of a SELECT returns a plan, never a row: only naming a masked column is refused (see checkPostgresMasking). */
function checkExplainedSelect(select: Json, isMasked: MaskedColumnTest): void {
  walkTree(select, (node) => {
    const named = node['type'] === 'column_ref' ? columnName(node) : undefined
    if (named !== undefined && named !== '*' && isMasked(named)) throw maskedColumnExplained(named)
    for (const using of Array.isArray(node['using']) ? node['using'] : []) {
      const name = isObject(using) ? using['value'] : using
      if (typeof name === 'string' && isMasked(name)) throw maskedColumnExplained(name)
    }
  })
}
