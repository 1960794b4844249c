import type { MaskedColumnTest } from './masked-column-test.js'
import { maskedColumnExplained, maskedColumnUsed, maskingBypassed } from './masked-column-test.js'
import { isObject, stringList, walkTree } from './walk-tree.js'
import type { Json } from './walk-tree.js'

/**
 * Built-ins that accept any row, so `alias.name` attribute notation calls them on the whole row
 * (`c.row_to_json` is `row_to_json(c)`): the one-argument pg_catalog functions taking `record`,
 * `anyelement`, `"any"`, `anycompatible` or `anynonarray`, plus hstore's.
 */
const ROW_FUNCTIONS = new Set(
  `any_out anycompatible_out anyelement_out anynonarray_out concat hash_record hash_record_extended
  json_build_array json_build_object jsonb_build_array jsonb_build_object num_nonnulls num_nulls
  pg_collation_for pg_column_compression pg_column_size pg_typeof quote_literal quote_nullable
  record_out record_send row_to_json to_json to_jsonb hstore`.split(/\s+/).filter((s) => s !== ''),
)

/** Functions that print whole tables or query results, unmasked. */
const TABLE_DUMPS = /^(table|schema|database|query|cursor)_to_xml/

/** Keys whose string value names a column (DDL, renames, index elements). */
const COLUMN_NAME_KEYS = new Set(['colname', 'subname', 'newname'])

/** The select body inside `{ SelectStmt: … }` (set-operation branches are bare bodies). */
function selectOf(node: unknown): Json | undefined {
  return isObject(node) && isObject(node['SelectStmt']) ? node['SelectStmt'] : undefined
}

/** Select bodies sit under `SelectStmt`, are set-operation branches, or are the statement itself. */
function isSelectBody(node: Json, key: string, kind: string, root: Json): boolean {
  return key === 'SelectStmt' || key === 'larg' || key === 'rarg' || (node === root && kind === 'SelectStmt')
}

function isSetOperation(select: Json): boolean {
  return isObject(select['larg']) || isObject(select['rarg'])
}

function targets(select: Json): Json[] {
  const list = Array.isArray(select['targetList']) ? select['targetList'] : []
  return list.flatMap((item: unknown) => (isObject(item) && isObject(item['ResTarget']) ? [item['ResTarget']] : []))
}

function columnRef(node: unknown): Json | undefined {
  return isObject(node) && isObject(node['ColumnRef']) ? node['ColumnRef'] : undefined
}

/** The parts of a column reference as written; `*` for a star. */
function refParts(ref: Json): string[] {
  const fields = Array.isArray(ref['fields']) ? ref['fields'] : []
  return fields.map((f: unknown) => {
    if (isObject(f) && isObject(f['A_Star'])) return '*'
    const s = isObject(f) ? f['String'] : undefined
    return isObject(s) && typeof s['sval'] === 'string' ? s['sval'] : ''
  })
}

function containsStar(node: unknown): boolean {
  let found = false
  walkTree(node, (n, key) => {
    if (key === 'ColumnRef' && refParts(n).at(-1) === '*') found = true
  })
  return found
}

function aliasOf(node: Json, key = 'alias'): Json | undefined {
  const alias = node[key]
  return isObject(alias) ? alias : undefined
}

function isPositional(node: unknown): boolean {
  const inner = isObject(node) && isObject(node['SortBy']) ? node['SortBy']['node'] : node
  return isObject(inner) && isObject(inner['A_Const']) && inner['A_Const']['ival'] !== undefined
}

/** What the first pass learns: which references are allowed and which names are FROM items. */
interface Allowances {
  /** Bare masked columns in the outermost select list, selected as is. */
  readonly asIs: Set<Json>
  /** `*` / `t.*` directly in a select list whose columns keep their names. */
  readonly stars: Set<Json>
  /** ResTargets of select lists (their names are output labels, not written columns). */
  readonly selectTargets: Set<Json>
  /** Relation names and aliases of FROM items and CTEs, lower-cased. */
  readonly fromNames: Set<string>
}

function collect(kind: string, body: Json, isMasked: MaskedColumnTest): Allowances {
  const found: Allowances = { asIs: new Set(), stars: new Set(), selectTargets: new Set(), fromNames: new Set() }
  const permitStars = (select: Json | undefined) => {
    if (select === undefined || isSetOperation(select)) return
    for (const target of targets(select)) {
      const ref = columnRef(target['val'])
      if (ref !== undefined && refParts(ref).at(-1) === '*') found.stars.add(ref)
    }
  }
  // Only the outermost select list may name masked columns: its labels are what masking sees.
  if (kind === 'SelectStmt' && !isSetOperation(body)) {
    permitStars(body)
    for (const target of targets(body)) {
      const ref = columnRef(target['val'])
      const column = ref === undefined ? undefined : refParts(ref).at(-1)
      if (ref === undefined || column === undefined || column === '*' || !isMasked(column)) continue
      const label = target['name']
      if (label === undefined || (typeof label === 'string' && label.toLowerCase() === column.toLowerCase())) found.asIs.add(ref)
    }
  }
  walkTree(body, (node, key) => {
    // Subqueries whose columns keep their names: FROM items, CTEs, and EXISTS (which returns no values).
    if (key === 'RangeSubselect') permitStars(selectOf(node['subquery']))
    if (key === 'CommonTableExpr') permitStars(selectOf(node['ctequery']))
    if (key === 'SubLink' && node['subLinkType'] === 'EXISTS_SUBLINK') permitStars(selectOf(node['subselect']))
    if (isSelectBody(node, key, kind, body)) for (const t of targets(node)) found.selectTargets.add(t)
    if (typeof node['relname'] === 'string') found.fromNames.add(node['relname'].toLowerCase())
    if (key === 'CommonTableExpr' && typeof node['ctename'] === 'string') found.fromNames.add(node['ctename'].toLowerCase())
    const alias = aliasOf(node)
    if (alias !== undefined && typeof alias['aliasname'] === 'string') found.fromNames.add(alias['aliasname'].toLowerCase())
  })
  return found
}

function checkColumnRef(ref: Json, allowed: Allowances, isMasked: MaskedColumnTest): void {
  const parts = refParts(ref)
  const column = parts.at(-1) ?? ''
  if (column === '*') {
    if (!allowed.stars.has(ref)) throw maskingBypassed('a whole row (* or alias.*) other than as a plain select-list item')
    return
  }
  if (isMasked(column) && !allowed.asIs.has(ref)) throw maskedColumnUsed(column)
  if (parts.length === 1 && allowed.fromNames.has(column.toLowerCase())) {
    throw maskingBypassed(`the whole row of ${column} as a value`)
  }
  if (parts.length > 1 && ROW_FUNCTIONS.has(column.toLowerCase())) {
    throw maskingBypassed(`${parts.join('.')} (attribute notation calls ${column} on the whole row)`)
  }
}

function checkNames(names: readonly string[], isMasked: MaskedColumnTest): void {
  for (const name of names) if (isMasked(name)) throw maskedColumnUsed(name)
}

/** Positional ORDER BY / GROUP BY / DISTINCT ON and DISTINCT work on masked values unseen. */
function checkSelectClauses(select: Json, allowed: Allowances): void {
  const touchesMasked = targets(select).some((t) => {
    const ref = columnRef(t['val'])
    return ref !== undefined && (allowed.asIs.has(ref) || allowed.stars.has(ref))
  })
  if (!touchesMasked) return
  const distinct = Array.isArray(select['distinctClause']) ? select['distinctClause'] : []
  if (distinct.length > 0) throw maskingBypassed('DISTINCT over masked columns')
  for (const clause of ['sortClause', 'groupClause']) {
    const items = Array.isArray(select[clause]) ? select[clause] : []
    if (items.some(isPositional)) throw maskingBypassed('ORDER BY or GROUP BY by position over masked columns')
  }
}

/**
 * Refuses a PostgreSQL statement that could read masked columns other than through their own
 * output label: the only place a masked column may appear is as a bare, un-renamed item of the
 * outermost select list; whole-row values, star expansions inside expressions, column renames and
 * NATURAL joins are refused because they can carry masked columns under another name.
 * @throws GuardError SQL_MASKED_COLUMN
 */
export function checkPostgresMasking(kind: string, body: Json, isMasked: MaskedColumnTest): void {
  // Without ANALYZE nothing runs: the plan's estimates are all it returns.
  const analyzes = (Array.isArray(body['options']) ? body['options'] : []).some((o: unknown) => isObject(o) && isObject(o['DefElem']) && o['DefElem']['defname'] === 'analyze')
  const explained = kind === 'ExplainStmt' && !analyzes ? selectOf(body['query']) : undefined
  if (explained !== undefined) return checkExplainedSelect(explained, isMasked)
  const allowed = collect(kind, body, isMasked)
  walkTree(body, (node, key) => {
    if (key === 'ColumnRef') checkColumnRef(node, allowed, isMasked)
    if (isSelectBody(node, key, kind, body)) checkSelectClauses(node, allowed)
    if (key === 'RangeVar' || key === 'relation') {
      if (stringList(aliasOf(node)?.['colnames']).length > 0) throw maskingBypassed('a column list that renames a table\'s columns')
    }
    for (const aliasKey of ['alias', 'eref']) {
      const colnames = stringList(aliasOf(node, aliasKey)?.['colnames'])
      checkNames(colnames, isMasked)
      if (colnames.length > 0 && key === 'RangeSubselect' && containsStar(node['subquery'])) {
        throw maskingBypassed('a column list that renames the columns of a subquery selecting *')
      }
    }
    if (key === 'CommonTableExpr') {
      const colnames = stringList(node['aliascolnames'])
      checkNames(colnames, isMasked)
      if (colnames.length > 0 && containsStar(node['ctequery'])) throw maskingBypassed('a column list that renames the columns of a CTE selecting *')
    }
    if (key === 'ViewStmt') checkNames(stringList(node['aliases']), isMasked)
    if (key === 'JoinExpr') {
      if (node['isNatural'] === true) throw maskingBypassed('NATURAL JOIN (it joins on columns it does not name)')
      checkNames(stringList(node['usingClause']), isMasked)
    }
    if (key === 'ResTarget' && !allowed.selectTargets.has(node) && typeof node['name'] === 'string') checkNames([node['name']], isMasked)
    if ((key === 'AlterTableCmd' || key === 'IndexElem') && typeof node['name'] === 'string') checkNames([node['name']], isMasked)
    for (const [field, value] of Object.entries(node)) {
      if (COLUMN_NAME_KEYS.has(field) && typeof value === 'string') checkNames([value], isMasked)
    }
    if (key === 'FuncCall') {
      const name = stringList(node['funcname']).at(-1)?.toLowerCase() ?? ''
      if (TABLE_DUMPS.test(name)) throw maskingBypassed(`${name}, which prints tables unmasked`)
    }
  })
}

/**
 * EXPLAIN (without ANALYZE) of a SELECT runs nothing and returns a plan, never a row: `*` and whole
 * rows carry no values there, so only naming a masked column is refused (a filter's estimates come
 * from the column's statistics). EXPLAIN ANALYZE, and EXPLAIN of anything else, is checked like the
 * statement itself.
 */
function checkExplainedSelect(select: Json, isMasked: MaskedColumnTest): void {
  walkTree(select, (node, key) => {
    if (key !== 'ColumnRef') return
    const column = refParts(node).at(-1) ?? ''
    if (column !== '*' && isMasked(column)) throw maskedColumnExplained(column)
  })
}
