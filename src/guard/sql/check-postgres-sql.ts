import { loadModule, parseSync, scanSync } from 'libpg-query'
import { GuardError } from '../../errors.js'
import { checkPostgresMasking } from './check-postgres-masking.js'
import { checkPostgresValueSizes } from './check-postgres-value-sizes.js'
import type { MaskedColumnTest } from './masked-column-test.js'
import { judgePostgresOperator, judgePostgresType } from './postgres-operator-policy.js'
import { judgePostgresFunction, normalizePostgresFunctionName } from './postgres-function-policy.js'
import { postgresBuiltinProbe } from './prove-postgres-builtins.js'
import { postgresSystemRead } from './postgres-catalog-policy.js'
import { postgresSystemTarget } from './postgres-system-targets.js'
import { systemCatalogDenied } from './system-catalog-denied.js'
import type { SqlCheck, SqlMode, SystemCatalogAccess } from './sql-check-request.js'
import { isObject, stringList, walkTree } from './walk-tree.js'
import type { Json } from './walk-tree.js'

/** Top-level statements a read-only grant may run. */
const READ_ONLY_TOP = new Set(['SelectStmt', 'ExplainStmt', 'VariableShowStmt'])

/**
 * Statements never run through an agent tool, whatever the grant: they reach the server host
 * (COPY to/from files or programs, LOAD, extensions), change the server or roles, run
 * unparseable code (DO), or change session or transaction state on a pooled connection the
 * gateway owns (transaction control, SET, PREPARE, cursors, LISTEN, DISCARD).
 */
const NEVER: ReadonlyMap<string, string> = new Map([
  ['CopyStmt', 'COPY reads or writes server files or programs'],
  ['AlterSystemStmt', 'ALTER SYSTEM changes server configuration'],
  ['AlterDatabaseSetStmt', 'ALTER DATABASE … SET changes settings for every session'],
  ['CreateEventTrigStmt', 'event triggers run code on every DDL statement'],
  ['CreateExtensionStmt', 'CREATE EXTENSION installs server code'],
  ['AlterExtensionStmt', 'ALTER EXTENSION changes server code'],
  ['AlterExtensionContentsStmt', 'ALTER EXTENSION changes server code'],
  ['DoStmt', 'DO runs procedural code the guard cannot inspect'],
  ['LoadStmt', 'LOAD loads a shared library'],
  ['TransactionStmt', 'transaction control belongs to the gateway'],
  ['VariableSetStmt', 'SET changes session state on a shared connection'],
  ['CreateRoleStmt', 'role management is not available to agents'],
  ['AlterRoleStmt', 'role management is not available to agents'],
  ['AlterRoleSetStmt', 'role management is not available to agents'],
  ['DropRoleStmt', 'role management is not available to agents'],
  ['GrantRoleStmt', 'role management is not available to agents'],
  ['PrepareStmt', 'prepared statements outlive the call'],
  ['ExecuteStmt', 'EXECUTE runs a prepared statement the guard cannot see'],
  ['DeallocateStmt', 'prepared statements belong to the gateway'],
  ['DeclareCursorStmt', 'cursors outlive the call'],
  ['FetchStmt', 'cursors outlive the call'],
  ['ClosePortalStmt', 'cursors outlive the call'],
  ['ListenStmt', 'LISTEN outlives the call'],
  ['UnlistenStmt', 'UNLISTEN changes session state'],
  ['NotifyStmt', 'NOTIFY signals other sessions'],
  ['DiscardStmt', 'DISCARD changes session state on a shared connection'],
  ['CheckPointStmt', 'CHECKPOINT is server administration'],
  ['CreateSubscriptionStmt', 'subscriptions connect to other servers'],
  ['AlterSubscriptionStmt', 'subscriptions connect to other servers'],
  ['CreateForeignServerStmt', 'foreign servers connect to other servers'],
  ['CreateUserMappingStmt', 'user mappings hold credentials for other servers'],
  ['AlterUserMappingStmt', 'user mappings hold credentials for other servers'],
  ['ImportForeignSchemaStmt', 'foreign schemas connect to other servers'],
  ['CreateFdwStmt', 'foreign-data wrappers install server code'],
  // Stored code runs later, for other callers or with other privileges, beyond what the guard saw.
  ['CreateFunctionStmt', 'functions and procedures run code the guard cannot inspect'],
  ['AlterFunctionStmt', 'ALTER FUNCTION/PROCEDURE changes how stored code runs'],
  ['CallStmt', 'CALL runs a procedure the guard cannot inspect'],
  ['CreateTrigStmt', "triggers run code on other callers' writes"],
  ['RuleStmt', "rules rewrite other callers' statements"],
  ['CreatePLangStmt', 'procedural languages install server code'],
  ['CreateCastStmt', 'casts call functions implicitly'],
  ['CreateTransformStmt', 'transforms call functions implicitly'],
  ['CreateConversionStmt', 'conversions call functions implicitly'],
])

/** `CREATE OPERATOR` / `CREATE AGGREGATE` wrap functions the guard would refuse if called directly. */
const NEVER_DEFINE: ReadonlyMap<string, string> = new Map([
  ['OBJECT_OPERATOR', 'operators call functions the guard cannot see by name'],
  ['OBJECT_AGGREGATE', 'aggregates call functions the guard cannot see by name'],
])

/** `pg_temp` (and the backend-specific `pg_temp_N`) resolves to the pooled session's temporary schema. */
const TEMP_SCHEMA = /^pg_temp(_\d+)?$/i
/** System schemas: reads are fine, writes are not. */
const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast'])

let loading: Promise<void> | undefined

async function ensureParser(): Promise<void> {
  loading ??= loadModule()
  try {
    await loading
  } catch (cause) {
    loading = undefined
    throw new GuardError('SQL_PARSE_FAILED', 'the PostgreSQL parser could not be loaded', { cause })
  }
}

/**
 * Replaces Data API `:name` placeholders with `$n` so the real PostgreSQL grammar accepts them.
 * Uses the server's own scanner, so text inside strings, comments and `::` casts is untouched.
 * The scanner reports UTF-8 byte offsets, so the splice works on bytes, not UTF-16 indexes.
 */
function bindPlaceholders(sql: string): string {
  if (!sql.includes(':')) return sql
  const tokens = scanSync(sql).tokens
  const bytes = Buffer.from(sql, 'utf8')
  const parts: Buffer[] = []
  let from = 0
  let n = 0
  for (let i = 0; i < tokens.length - 1; i++) {
    const colon = tokens[i]
    const name = tokens[i + 1]
    if (colon === undefined || name === undefined) continue
    if (colon.text !== ':' || name.start !== colon.end || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name.text)) continue
    n += 1
    parts.push(bytes.subarray(from, colon.start), Buffer.from(`$${n}`))
    from = name.end
    i += 1
  }
  parts.push(bytes.subarray(from))
  return Buffer.concat(parts).toString('utf8')
}

function parseOne(sql: string): { kind: string; body: Json } {
  let result: unknown
  try {
    result = parseSync(bindPlaceholders(sql))
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : 'unknown parser error'
    throw new GuardError('SQL_PARSE_FAILED', `PostgreSQL could not parse the statement: ${detail}`, { cause })
  }
  const stmts = isObject(result) && Array.isArray(result['stmts']) ? result['stmts'] : []
  if (stmts.length === 0) throw new GuardError('SQL_PARSE_FAILED', 'the SQL contains no statement')
  if (stmts.length > 1) {
    throw new GuardError('SQL_MULTIPLE_STATEMENTS', `expected exactly one statement, found ${stmts.length}`)
  }
  const raw: unknown = stmts[0]
  const stmt = isObject(raw) ? raw['stmt'] : undefined
  const entries = isObject(stmt) ? Object.entries(stmt) : []
  const [first] = entries
  if (entries.length !== 1 || first === undefined || !isObject(first[1])) {
    throw new GuardError('SQL_PARSE_FAILED', 'the parser returned an unexpected tree')
  }
  return { kind: first[0], body: first[1] }
}

function notReadOnly(reason: string): GuardError {
  return new GuardError('SQL_NOT_READ_ONLY', `not read-only: ${reason}`)
}

/** A refusal that holds whatever the grant's mode. */
function refuse(mode: SqlMode, reason: string): GuardError {
  return mode === 'read-only' ? notReadOnly(reason) : new GuardError('SQL_NOT_ALLOWED', `refused in every mode: ${reason}`)
}

/** Keys under which a RangeVar is the object a statement changes, not one it reads. */
const WRITE_TARGET_KEYS = new Set(['relation', 'relations', 'view', 'sequence', 'into', 'rel', 'typevar', 'objects'])

function checkExplain(body: Json): void {
  for (const option of Array.isArray(body['options']) ? body['options'] : []) {
    const def = isObject(option) ? option['DefElem'] : undefined
    if (isObject(def) && typeof def['defname'] === 'string' && def['defname'].toLowerCase() === 'analyze') {
      throw notReadOnly('EXPLAIN ANALYZE executes the statement')
    }
  }
  const query = body['query']
  if (!isObject(query) || !isObject(query['SelectStmt'])) {
    const inner = isObject(query) ? Object.keys(query)[0] ?? 'unknown' : 'unknown'
    throw notReadOnly(`EXPLAIN of ${inner}`)
  }
}

/** Checks one PostgreSQL statement; see checkSql for the rules. */
export async function checkPostgresSql(sql: string, mode: SqlMode, isMasked?: MaskedColumnTest, catalogs: SystemCatalogAccess = 'refuse'): Promise<SqlCheck> {
  await ensureParser()
  const { kind, body } = parseOne(sql)
  const never = NEVER.get(kind)
  if (never !== undefined) {
    throw mode === 'read-only' ? notReadOnly(`${kind}: ${never}`) : new GuardError('SQL_NOT_ALLOWED', `refused in every mode: ${never}`)
  }
  if (mode === 'read-only') {
    if (!READ_ONLY_TOP.has(kind)) throw notReadOnly(`statement ${kind} is not a plain read`)
    if (kind === 'ExplainStmt') checkExplain(body)
  }
  const defineKind = kind === 'DefineStmt' && typeof body['kind'] === 'string' ? NEVER_DEFINE.get(body['kind']) : undefined
  if (defineKind !== undefined) throw refuse(mode, defineKind)
  const tables = new Set<string>()
  const functions = new Set<string>()
  walkTree(body, (node, parentKey) => {
    for (const [key, value] of Object.entries(node)) {
      if (key.endsWith('Stmt') && /^[A-Z]/.test(key)) {
        const nestedNever = NEVER.get(key)
        if (nestedNever !== undefined) throw mode === 'read-only' ? notReadOnly(`${key}: ${nestedNever}`) : new GuardError('SQL_NOT_ALLOWED', `refused in every mode: nested ${key}: ${nestedNever}`)
        if (mode === 'read-only' && key !== 'SelectStmt') throw notReadOnly(`contains a data-modifying ${key}`)
      }
      if (mode === 'read-only' && key === 'intoClause' && value !== undefined && value !== null) {
        throw notReadOnly('SELECT … INTO creates a table')
      }
      if (mode === 'read-only' && key === 'lockingClause' && Array.isArray(value) && value.length > 0) {
        throw notReadOnly('locking clause (FOR UPDATE / FOR SHARE) takes row locks')
      }
      if (key === 'FuncCall' && isObject(value)) {
        const parts = stringList(value['funcname'])
        const verdict = judgePostgresFunction(parts, mode)
        if (!verdict.allowed) {
          throw mode === 'read-only' ? notReadOnly(verdict.reason ?? 'function refused') : new GuardError('SQL_NOT_ALLOWED', `refused in every mode: ${verdict.reason ?? 'function refused'}`)
        }
        functions.add(normalizePostgresFunctionName(parts))
      }
      if (mode === 'read-only' && isObject(value)) {
        // Operators hide function calls: in expressions, ANY/ALL subqueries and ORDER BY … USING.
        const operator = key === 'A_Expr' ? value['name'] : key === 'SubLink' ? value['operName'] : key === 'SortBy' ? value['useOp'] : undefined
        const op = stringList(operator)
        if (op.length > 0) {
          const verdict = judgePostgresOperator(op)
          if (!verdict.allowed) throw notReadOnly(verdict.reason ?? 'operator refused')
        }
        if (key === 'typeName' || key === 'TypeName') {
          const verdict = judgePostgresType(stringList(value['names']))
          if (!verdict.allowed) throw notReadOnly(verdict.reason ?? 'type refused')
        }
      }
    }
    for (const value of Object.values(node)) {
      const qualified = stringList(value)
      if (qualified.length > 1 && TEMP_SCHEMA.test(qualified[0] ?? '')) throw refuse(mode, 'objects in pg_temp outlive the call on a shared connection')
    }
    if (CHANGES_NAMED_OBJECTS.has(kind)) {
      const change = systemSchemaChange(node, parentKey)
      if (change !== undefined) throw refuse(mode, change)
    }
    // A RangeVar, wrapped (`{ RangeVar: … }` in FROM) or bare (`relation`, `view`, `sequence`, and `rel` of a SELECT … INTO too).
    if (typeof node['relname'] === 'string') {
      const schema = typeof node['schemaname'] === 'string' ? node['schemaname'] : ''
      if (TEMP_SCHEMA.test(schema)) throw refuse(mode, 'objects in pg_temp outlive the call on a shared connection')
      if (SYSTEM_SCHEMAS.has(schema.toLowerCase()) && (WRITE_TARGET_KEYS.has(parentKey) || kind === 'TruncateStmt')) {
        throw refuse(mode, `writes to ${schema}.${node['relname']}`)
      }
      const name = [node['catalogname'], node['schemaname'], node['relname']].filter((p): p is string => typeof p === 'string')
      tables.add(name.join('.').toLowerCase())
      if (node['relpersistence'] === 't') {
        const reason = 'temporary objects outlive the call on a shared connection'
        throw mode === 'read-only' ? notReadOnly(reason) : new GuardError('SQL_NOT_ALLOWED', `refused in every mode: ${reason}`)
      }
    }
  })
  const systemTarget = postgresSystemTarget(kind, body)
  if (systemTarget !== undefined) throw refuse(mode, systemTarget)
  const systemRead = catalogs === 'allow' ? undefined : postgresSystemRead(kind, body)
  if (systemRead !== undefined) throw systemCatalogDenied(systemRead)
  if (isMasked !== undefined) checkPostgresMasking(kind, body, isMasked)
  checkPostgresValueSizes(body)
  const probe = mode === 'read-only' ? postgresBuiltinProbe(body) : undefined
  return { engine: 'postgres', mode, statementKind: kind, tables: [...tables].sort(), functions: [...functions].sort(), ...(probe === undefined ? {} : { builtinProbe: probe }) }
}

/** Statements that change an object they name by a list (`schema.name`), a name with arguments, a type name, or a schema's own name. */
const CHANGES_NAMED_OBJECTS = new Set(['DropStmt', 'RenameStmt', 'AlterObjectSchemaStmt', 'CommentStmt', 'AlterOwnerStmt'])

/**
 * What such a statement changes in a system schema, if anything: a table, view, index or column
 * (`List`), a function, aggregate or operator (`ObjectWithArgs`, its name only: argument types
 * are often `pg_catalog.int4`), a type or domain (`TypeName`), or the schema itself.
 */
function systemSchemaChange(node: Json, parentKey: string): string | undefined {
  const target = parentKey === 'object' || parentKey === 'objects'
  const withArgs = target && isObject(node['ObjectWithArgs']) ? node['ObjectWithArgs']['objname'] : undefined
  const type = target && isObject(node['TypeName']) ? node['TypeName']['names'] : undefined
  const qualified = stringList(isObject(node['List']) ? node['List']['items'] : withArgs ?? type)
  if (qualified.length > 1 && SYSTEM_SCHEMAS.has((qualified[0] ?? '').toLowerCase())) return `changes ${qualified.join('.')} in a system schema`
  const schema = target && isObject(node['String']) ? node['String']['sval'] : node['renameType'] === 'OBJECT_SCHEMA' ? node['subname'] : undefined
  if (typeof schema === 'string' && SYSTEM_SCHEMAS.has(schema.toLowerCase())) return `changes the system schema ${schema}`
  return undefined
}
