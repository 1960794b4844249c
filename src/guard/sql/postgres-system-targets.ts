import { isObject, stringList } from './walk-tree.js'
import type { Json } from './walk-tree.js'

/*
 * Statements whose target is a system object: locks, privileges, security labels, reindexing,
 * vacuuming, clustering, default privileges, row-level security policies, publications,
 * statistics, collations, types, operators and text-search objects in the system schemas, and
 * the server's own tablespaces. Refused whatever the grant, opt-in or not: a DBA who reads the
 * catalogs through Airlock still changes them only outside it.
 */

const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast'])

/** Statements that read, or write rows of the relation they name; everything else is DDL or administration. */
const ROW_STATEMENTS = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'])
const READ_STATEMENTS = new Set(['SelectStmt', 'ExplainStmt', 'VariableShowStmt'])

/** Keys under which a DDL statement names (as `schema.name`) the object it creates or changes. */
const NAME_KEYS = new Set(['defnames', 'typeName', 'collname', 'domainname', 'dictname', 'cfgname', 'opclassname', 'opfamilyname'])

/** Privilege and label changes on these name their object without a relation; unqualified, it may be a built-in. */
const QUALIFY_IN_GRANTS = new Set(['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE', 'OBJECT_TYPE', 'OBJECT_DOMAIN', 'OBJECT_AGGREGATE'])

/** Whole statements on server-level objects. */
const SERVER_LEVEL: ReadonlyMap<string, string> = new Map([
  ['CreateTableSpaceStmt', 'CREATE TABLESPACE writes to server directories'],
])

const isSystemSchema = (name: unknown): name is string => typeof name === 'string' && SYSTEM_SCHEMAS.has(name.toLowerCase())

function relationTarget(node: Json): string | undefined {
  const relname = node['relname']
  if (typeof relname !== 'string') return undefined
  const schema = node['schemaname']
  if (isSystemSchema(schema)) return `changes ${schema}.${relname} in a system schema`
  // PostgreSQL looks in pg_catalog before the search path, and its relations all start with "pg_".
  if (schema === undefined && relname.toLowerCase().startsWith('pg_')) {
    return `changes ${relname}, which an unqualified name finds in pg_catalog first; qualify it with its schema`
  }
  return undefined
}

function qualifiedTarget(parts: readonly string[]): string | undefined {
  return parts.length > 1 && isSystemSchema(parts[0]) ? `changes ${parts.join('.')} in a system schema` : undefined
}

/** An object a statement names: a name list, a function, a type or a schema name. */
function objectTarget(item: unknown, mustQualify: boolean): string | undefined {
  if (!isObject(item)) return undefined
  const withArgs = isObject(item['ObjectWithArgs']) ? item['ObjectWithArgs']['objname'] : undefined
  const type = isObject(item['TypeName']) ? item['TypeName']['names'] : undefined
  const list = isObject(item['List']) ? item['List']['items'] : undefined
  const parts = stringList(withArgs ?? type ?? list)
  const [only] = parts
  if (parts.length === 1 && only !== undefined) {
    if (mustQualify) return `changes privileges or labels of ${only}, which may be a built-in; qualify it with its schema`
    if (only.toLowerCase().startsWith('pg_')) return `changes ${only}, which an unqualified name finds in pg_catalog first; qualify it with its schema`
  }
  const qualified = qualifiedTarget(parts)
  if (qualified !== undefined) return qualified
  const schema = isObject(item['String']) ? item['String']['sval'] : undefined
  return isSystemSchema(schema) ? `changes the system schema ${schema}` : undefined
}

/** Targets a statement body names directly (not in nested statements, which are visited on their own). */
function statementTarget(kind: string, body: Json): string | undefined {
  const server = SERVER_LEVEL.get(kind)
  if (server !== undefined) return server
  if (kind === 'ReindexStmt' && body['kind'] === 'REINDEX_OBJECT_SYSTEM') return 'REINDEX SYSTEM rebuilds the system catalogs\' indexes'
  // Before PostgreSQL 16, REINDEX DATABASE rebuilt the catalogs' indexes too.
  if (kind === 'ReindexStmt' && body['kind'] === 'REINDEX_OBJECT_DATABASE') return 'REINDEX DATABASE rebuilds the system catalogs\' indexes too'
  if (kind === 'ReindexStmt' && body['kind'] === 'REINDEX_OBJECT_SCHEMA' && isSystemSchema(body['name'])) return `changes the system schema ${String(body['name'])}`
  if (kind === 'CreateSchemaStmt' && isSystemSchema(body['schemaname'])) return `changes the system schema ${String(body['schemaname'])}`
  if (kind === 'VacuumStmt' && !(Array.isArray(body['rels']) && body['rels'].length > 0)) return 'VACUUM/ANALYZE without a table list processes the system catalogs too'
  // The tablespace a statement changes, or moves everything out of; moving into pg_default is ordinary.
  for (const key of ['tablespacename', 'orig_tablespacename']) {
    const space = body[key]
    if (typeof space === 'string' && space.toLowerCase().startsWith('pg_')) return `changes the server's tablespace ${space}`
  }
  const mustQualify = (kind === 'GrantStmt' || kind === 'SecLabelStmt') && typeof body['objtype'] === 'string' && QUALIFY_IN_GRANTS.has(body['objtype'])
  // `objects` (GRANT, DROP) or the one `object` (SECURITY LABEL, COMMENT, ALTER … OWNER/DEPENDS/SET SCHEMA/RENAME).
  const objects = Array.isArray(body['objects']) ? body['objects'] : body['object'] === undefined ? [] : [body['object']]
  for (const item of objects) {
    const target = objectTarget(item, mustQualify)
    if (target !== undefined) return target
  }
  const operator = isObject(body['opername']) ? qualifiedTarget(stringList(body['opername']['objname'])) : undefined
  if (operator !== undefined) return operator
  for (const key of NAME_KEYS) {
    const target = qualifiedTarget(stringList(body[key]))
    if (target !== undefined) return target
  }
  return undefined
}

/** Schema names a node lists: ALTER DEFAULT PRIVILEGES IN SCHEMA, publications FOR TABLES IN SCHEMA. */
function schemaListTarget(node: Json, key: string): string | undefined {
  if (key === 'DefElem' && node['defname'] === 'schemas' && isObject(node['arg']) && isObject(node['arg']['List'])) {
    const schema = stringList(node['arg']['List']['items']).find(isSystemSchema)
    if (schema !== undefined) return `changes the system schema ${schema}`
  }
  if (key === 'PublicationObjSpec' && isSystemSchema(node['name'])) return `changes the system schema ${String(node['name'])}`
  return undefined
}

/**
 * What system object a statement changes, if any. Relations in a SELECT (a view's query, a
 * subquery, the source of an INSERT) are reads and left to the read rules; the relation an
 * INSERT, UPDATE, DELETE or MERGE writes, and every relation a DDL or administration statement
 * names outside a SELECT, are targets.
 */
export function postgresSystemTarget(kind: string, body: Json): string | undefined {
  const stack: [value: unknown, key: string, target: boolean][] = [[{ [kind]: body }, '', false]]
  while (stack.length > 0) {
    const next = stack.pop()
    if (next === undefined) break
    const [value, key, inherited] = next
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, key, inherited])
      continue
    }
    if (!isObject(value)) continue
    const isStatement = key.endsWith('Stmt') && /^[A-Z]/.test(key)
    const ddl = isStatement && !ROW_STATEMENTS.has(key) && !READ_STATEMENTS.has(key)
    const target = isStatement ? ddl : inherited
    if (ddl) {
      const found = statementTarget(key, value)
      if (found !== undefined) return found
    }
    if (target) {
      const found = relationTarget(value) ?? schemaListTarget(value, key)
      if (found !== undefined) return found
    }
    for (const [childKey, child] of Object.entries(value)) {
      if (typeof child !== 'object' || child === null) continue
      // The relation a row statement writes is its target; everything else in it is read.
      const childTarget = ROW_STATEMENTS.has(key) ? childKey === 'relation' : target
      stack.push([child, childKey, childTarget])
    }
  }
  return undefined
}
