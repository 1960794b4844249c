import type { BuiltinProbe } from './builtin-probe.js'
import { isObject, stringList, walkTree } from './walk-tree.js'

/*
 * Why a catalog probe and not a pinned search_path: PostgreSQL resolves a function, operator or
 * cast by the best match over *every* schema on the search path, so an exact user-defined
 * overload (`public.length(orders)`, reached as `length(o)` or as `o.length`, or
 * `public.=(varchar, varchar)`) wins over pg_catalog's coercing built-in even when pg_catalog is
 * searched first. `SET LOCAL search_path = pg_catalog` alone would hide those, but it also hides
 * every unqualified table the caller names, and casts are found by type, not by path. So the
 * gateway asks the catalog, in the read-only transaction and just before the statement, whether
 * any object in a schema on the search path (as the statement will see it) other than pg_catalog
 * carries a name the statement resolves; objects in pg_catalog can only be created by a
 * superuser, and the guard refuses calls qualified with any other schema. Casts, views and
 * policies are not found through the search path, so for them every schema counts. It is a name-level proof, so it is strict: a database whose
 * extensions overload built-in names (citext's `lower`, PostGIS's `=` and implicit casts) gets
 * refusals naming the extension's object, which a call qualified with `pg_catalog.` avoids for
 * functions. Base types with their own I/O functions and operator classes (used by ORDER BY,
 * GROUP BY, DISTINCT, indexes) can only be created by a superuser and are not probed.
 */

/** Comparison operators the server looks up by name for BETWEEN, CASE x WHEN, JOIN … USING. */
const BETWEEN_OPERATORS = ['>=', '<=', '<', '>']

/** What a statement resolves by name at run time. */
export interface PostgresCatalogNames {
  /** Unqualified function names, and attribute names (`o.length`, `(o).length` call `length(o)`). */
  readonly functions: readonly string[]
  readonly operators: readonly string[]
  /** Unqualified type names (a user type of that name may come first on the search path). */
  readonly types: readonly string[]
  /** Every type a value is cast to, qualified or not, and function-style casts (`text(o)`). */
  readonly castTargets: readonly string[]
  /** Relations read, as quoted (qualified) names: their views and row-level security policies run code too. */
  readonly relations: readonly string[]
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`

const isPgCatalog = (parts: readonly string[]) => parts.length === 2 && parts[0] === 'pg_catalog'

/** Collects the names from a parsed statement (libpg-query's JSON tree). */
export function collectPostgresCatalogNames(tree: unknown): PostgresCatalogNames {
  const functions = new Set<string>()
  const operators = new Set<string>()
  const types = new Set<string>()
  const castTargets = new Set<string>()
  const relations = new Set<string>()
  const addOperator = (value: unknown) => {
    const parts = stringList(value)
    if (parts.length === 0 || isPgCatalog(parts)) return
    const name = (parts.at(-1) ?? '').toLowerCase()
    if (name.includes('between')) for (const op of BETWEEN_OPERATORS) operators.add(op)
    else operators.add(parts.at(-1) ?? '')
  }
  walkTree(tree, (node) => {
    if (typeof node['relname'] === 'string') {
      const schema = typeof node['schemaname'] === 'string' ? `${quoteIdent(node['schemaname'])}.` : ''
      relations.add(`${schema}${quoteIdent(node['relname'])}`)
    }
    for (const [key, value] of Object.entries(node)) {
      if (!isObject(value)) continue
      if (key === 'FuncCall') {
        const parts = stringList(value['funcname'])
        if (parts.length === 1 && parts[0] !== undefined) {
          functions.add(parts[0])
          castTargets.add(parts[0])
        }
      } else if (key === 'ColumnRef') {
        for (const field of stringList(value['fields']).slice(1)) functions.add(field)
      } else if (key === 'A_Indirection') {
        for (const field of stringList(value['indirection'])) functions.add(field)
      } else if (key === 'A_Expr') {
        addOperator(value['name'])
      } else if (key === 'SubLink') {
        addOperator(value['operName'])
      } else if (key === 'SortBy') {
        addOperator(value['useOp'])
      } else if (key === 'CaseExpr' && value['arg'] !== undefined) {
        operators.add('=')
      } else if (key === 'JoinExpr' && (value['isNatural'] === true || Array.isArray(value['usingClause']))) {
        operators.add('=')
      }
    }
    if (Array.isArray(node['names']) && ('typemod' in node || 'arrayBounds' in node || 'typeOid' in node)) {
      const parts = stringList(node['names'])
      const last = parts.at(-1)
      if (last !== undefined) {
        castTargets.add(last)
        if (parts.length === 1) types.add(last)
      }
    }
  })
  const sorted = (set: Set<string>) => [...set].sort()
  return { functions: sorted(functions), operators: sorted(operators), types: sorted(types), castTargets: sorted(castTargets), relations: sorted(relations) }
}

/**
 * The probe itself names only pg_catalog objects, qualified, so the search path it runs under
 * cannot redirect it. Implicit casts with a user-defined function are reported whatever the
 * statement names: the server may apply them to any value of the cast's source type. Relations
 * are resolved as the statement will resolve them (to_regclass, same search path); from each,
 * the views' rules and row-level security policies are followed (pg_depend, recursively through
 * the relations they read) to every function and operator they call. Code in pg_catalog and
 * information_schema (whose views call its own helper functions) is the server's own.
 *
 * It runs before every read-only statement, so its plan matters (pinned by
 * test/guard/sql/probe-plan.test.ts). Rules and policies are looked up per relation reached
 * (LATERAL, by pg_rewrite's ev_class and pg_depend's depender indexes) rather than hashed from
 * the whole catalog; the first relations come through unnest of an array, which the planner
 * estimates at 10 rows, not a set function's 100, which keeps the recursive part's estimated cost
 * far below jit_above_cost (a JIT compile costs some 100 ms). Cast functions are filtered by
 * `castfunc >= 16384` first, which drops nothing the namespace test keeps (only initdb creates
 * objects below FirstNormalObjectId, all in pg_catalog and information_schema) and spares a scan
 * of pg_proc. Its parts follow; postgresProbeSql puts together those a statement needs.
 */
// The common table holding one of the statement's name lists as an array of names.
const list = (alias: string, key: keyof PostgresCatalogNames) =>
  `${alias} AS (SELECT ARRAY(SELECT CAST(pg_catalog.jsonb_array_elements_text(doc OPERATOR(pg_catalog.->) '${key}') AS pg_catalog.name) FROM j) AS names)`
const NAMES = 'j AS (SELECT CAST(:names AS pg_catalog.jsonb) AS doc)'
const SCHEMAS = `s AS (SELECT CAST('pg_catalog' AS pg_catalog.regnamespace) AS oid, CAST('information_schema' AS pg_catalog.regnamespace) AS info, ARRAY(SELECT n.oid FROM pg_catalog.pg_namespace n
  WHERE n.nspname OPERATOR(pg_catalog.=) ANY (pg_catalog.current_schemas(true)) AND n.nspname OPERATOR(pg_catalog.<>) 'pg_catalog') AS searched)`
// Each relation reached (rel) joined to what its view rules and row-level security policies depend on (d).
const DEPENDENCIES_OF_REL = `rel CROSS JOIN LATERAL (
      SELECT CAST('pg_catalog.pg_rewrite' AS pg_catalog.regclass) AS classid, w.oid AS objid, 'view' AS what FROM pg_catalog.pg_rewrite w WHERE w.ev_class OPERATOR(pg_catalog.=) rel.oid
      UNION ALL
      SELECT CAST('pg_catalog.pg_policy' AS pg_catalog.regclass), pol.oid, 'policy on' FROM pg_catalog.pg_policy pol WHERE pol.polrelid OPERATOR(pg_catalog.=) rel.oid) AS code
    JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) code.classid AND d.objid OPERATOR(pg_catalog.=) code.objid`
const RELATIONS = `rel(oid) AS (
  SELECT pg_catalog.unnest(ARRAY(SELECT pg_catalog.to_regclass(e.name) FROM j, pg_catalog.jsonb_array_elements_text(j.doc OPERATOR(pg_catalog.->) 'relations') AS e(name)))
  UNION
  SELECT d.refobjid FROM ${DEPENDENCIES_OF_REL}
   WHERE d.refclassid OPERATOR(pg_catalog.=) CAST('pg_catalog.pg_class' AS pg_catalog.regclass))`
const USED = `used AS (
  SELECT d.refclassid, d.refobjid, code.what, rel.oid AS relid FROM ${DEPENDENCIES_OF_REL})`
const FUNCTION_BRANCH = `SELECT 'function' AS kind, CAST(CAST(p.oid AS pg_catalog.regprocedure) AS pg_catalog.text) AS name FROM pg_catalog.pg_proc p
 WHERE p.pronamespace OPERATOR(pg_catalog.=) ANY (CAST((SELECT searched FROM s) AS pg_catalog.oid[])) AND p.proname OPERATOR(pg_catalog.=) ANY (CAST((SELECT names FROM fn) AS pg_catalog.name[]))`
const OPERATOR_BRANCH = `SELECT 'operator' AS kind, CAST(CAST(o.oid AS pg_catalog.regoperator) AS pg_catalog.text) AS name FROM pg_catalog.pg_operator o
 WHERE o.oprnamespace OPERATOR(pg_catalog.=) ANY (CAST((SELECT searched FROM s) AS pg_catalog.oid[])) AND o.oprname OPERATOR(pg_catalog.=) ANY (CAST((SELECT names FROM op) AS pg_catalog.name[]))`
const TYPE_BRANCH = `SELECT 'type' AS kind, CAST(CAST(t.oid AS pg_catalog.regtype) AS pg_catalog.text) AS name FROM pg_catalog.pg_type t
 WHERE t.typnamespace OPERATOR(pg_catalog.=) ANY (CAST((SELECT searched FROM s) AS pg_catalog.oid[])) AND t.typname OPERATOR(pg_catalog.=) ANY (CAST((SELECT names FROM ty) AS pg_catalog.name[]))`
const CAST_BRANCH = `SELECT 'cast' AS kind, pg_catalog.concat(CAST(CAST(k.castsource AS pg_catalog.regtype) AS pg_catalog.text), ' AS ', CAST(CAST(k.casttarget AS pg_catalog.regtype) AS pg_catalog.text)) AS name
  FROM pg_catalog.pg_cast k JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) k.castfunc JOIN pg_catalog.pg_type tt ON tt.oid OPERATOR(pg_catalog.=) k.casttarget
 WHERE k.castfunc OPERATOR(pg_catalog.>=) CAST(16384 AS pg_catalog.oid) AND p.pronamespace OPERATOR(pg_catalog.<>) (SELECT oid FROM s) AND p.pronamespace OPERATOR(pg_catalog.<>) (SELECT info FROM s)
   AND (k.castcontext OPERATOR(pg_catalog.=) 'i' OR tt.typname OPERATOR(pg_catalog.=) ANY (CAST((SELECT names FROM ct) AS pg_catalog.name[])))`
const VIEW_FUNCTION_BRANCH = `SELECT 'function' AS kind, pg_catalog.concat(CAST(CAST(p.oid AS pg_catalog.regprocedure) AS pg_catalog.text), ' (', u.what, ' ', CAST(CAST(u.relid AS pg_catalog.regclass) AS pg_catalog.text), ')') AS name
  FROM used u JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) u.refobjid
 WHERE u.refclassid OPERATOR(pg_catalog.=) CAST('pg_catalog.pg_proc' AS pg_catalog.regclass) AND p.pronamespace OPERATOR(pg_catalog.<>) (SELECT oid FROM s) AND p.pronamespace OPERATOR(pg_catalog.<>) (SELECT info FROM s)`
const VIEW_OPERATOR_BRANCH = `SELECT 'operator' AS kind, pg_catalog.concat(CAST(CAST(o.oid AS pg_catalog.regoperator) AS pg_catalog.text), ' (', u.what, ' ', CAST(CAST(u.relid AS pg_catalog.regclass) AS pg_catalog.text), ')') AS name
  FROM used u JOIN pg_catalog.pg_operator o ON o.oid OPERATOR(pg_catalog.=) u.refobjid
 WHERE u.refclassid OPERATOR(pg_catalog.=) CAST('pg_catalog.pg_operator' AS pg_catalog.regclass) AND o.oprnamespace OPERATOR(pg_catalog.<>) (SELECT oid FROM s) AND o.oprnamespace OPERATOR(pg_catalog.<>) (SELECT info FROM s)`

/**
 * The probe's text for these names. A branch whose name list is empty could match nothing (its
 * test is `= ANY` of that list, and no relation means no rules or policies to follow), so it is
 * left out: PostgreSQL plans each statement anew, and every branch costs planning time. The cast
 * branch is always there (implicit casts are reported whatever the statement names).
 */
export function postgresProbeSql(names: PostgresCatalogNames): string {
  const tables = [NAMES]
  const branches: string[] = []
  const relations = names.relations.length > 0
  if (relations) tables.push(RELATIONS, USED)
  if (names.functions.length > 0) {
    tables.push(list('fn', 'functions'))
    branches.push(FUNCTION_BRANCH)
  }
  if (names.operators.length > 0) {
    tables.push(list('op', 'operators'))
    branches.push(OPERATOR_BRANCH)
  }
  if (names.types.length > 0) {
    tables.push(list('ty', 'types'))
    branches.push(TYPE_BRANCH)
  }
  tables.push(list('ct', 'castTargets'), SCHEMAS)
  branches.push(CAST_BRANCH)
  if (relations) branches.push(VIEW_FUNCTION_BRANCH, VIEW_OPERATOR_BRANCH)
  return `WITH RECURSIVE ${tables.join(',\n')}\n${branches.join('\nUNION ALL\n')}\nLIMIT 20`
}

/** The probe for a parsed read-only PostgreSQL statement (see BuiltinProbe), or undefined when it resolves no names. */
export function postgresBuiltinProbe(tree: unknown): BuiltinProbe | undefined {
  const names = collectPostgresCatalogNames(tree)
  const none = Object.values(names).every((list) => list.length === 0)
  return none ? undefined : { sql: postgresProbeSql(names), names: JSON.stringify(names) }
}
