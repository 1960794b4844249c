// Only the MySQL grammar up front: the package's main entry loads all of its dialects, which takes
// five to seven times as long and six times the heap (100-150 ms and 5.3 MB against 14-28 ms and 0.9 MB).
import mysqlGrammar from 'node-sql-parser/build/mysql.js'
import { GuardError } from '../../errors.js'
import { checkMysqlMasking } from './check-mysql-masking.js'
import { checkMysqlValueSizes } from './check-mysql-value-sizes.js'
import type { MaskedColumnTest } from './masked-column-test.js'
import { judgeMysqlFunction } from './mysql-function-policy.js'
import { mysqlBuiltinProbe } from './prove-mysql-builtins.js'
import { mysqlSystemRead, mysqlSystemWrite } from './mysql-catalog-policy.js'
import { systemCatalogDenied } from './system-catalog-denied.js'
import { scanMysqlText } from './scan-mysql-text.js'
import type { SqlCheck, SqlMode, SystemCatalogAccess } from './sql-check-request.js'
import { isObject, walkTree } from './walk-tree.js'
import type { Json } from './walk-tree.js'

const READ_ONLY_TOP = new Set(['select', 'show', 'explain', 'desc'])

/**
 * Statement types never run through an agent tool: transaction control (the gateway owns the
 * transaction), session state on a pooled connection (SET, USE), table locks, server files
 * (LOAD DATA), privileges and stored procedures.
 */
const NEVER: ReadonlyMap<string, string> = new Map([
  ['transaction', 'transaction control belongs to the gateway'],
  ['set', 'SET changes session state on a shared connection'],
  ['use', 'USE changes session state on a shared connection'],
  ['lock', 'LOCK TABLES outlives the call'],
  ['unlock', 'UNLOCK TABLES belongs to the gateway'],
  ['load_data', 'LOAD DATA reads server or client files'],
  ['grant', 'privilege management is not available to agents'],
  ['revoke', 'privilege management is not available to agents'],
  ['call', 'CALL runs a stored procedure the guard cannot inspect'],
])

/**
 * Objects never created, altered or dropped through an agent tool: accounts and privileges, and
 * stored code that later runs for other callers or on a schedule (functions, procedures,
 * triggers, events). Statements the parser cannot read are refused as unparseable anyway.
 */
const NEVER_OBJECTS: ReadonlyMap<string, string> = new Map([
  ['user', 'user management is not available to agents'],
  ['role', 'role management is not available to agents'],
  ['function', 'stored functions run code for later callers'],
  ['procedure', 'stored procedures run code for later callers'],
  ['trigger', "triggers run code on other callers' writes"],
  ['event', 'events run code on a schedule'],
  ['server', 'servers connect to other servers'],
])

/** Statement types that change something; refused anywhere inside a read-only statement. */
const WRITES = new Set([
  'insert', 'replace', 'update', 'delete', 'create', 'drop', 'alter', 'truncate', 'rename', 'call',
  'set', 'use', 'lock', 'unlock', 'transaction', 'load_data', 'grant', 'revoke', 'declare', 'exec', 'go',
])

const mysqlParser = new mysqlGrammar.Parser()

// MariaDB's grammar (RETURNING on INSERT/DELETE, for one) is read only for statements the MySQL
// grammar rejects, so it is loaded on the first of those. Memoized for the same reason as in check-sql.ts.
let mariadbParser: Promise<InstanceType<typeof mysqlGrammar.Parser>> | undefined
function loadMariadbParser(): Promise<InstanceType<typeof mysqlGrammar.Parser>> {
  mariadbParser ??= import('node-sql-parser/build/mariadb.js').then((grammar) => new grammar.default.Parser())
  return mariadbParser
}

async function parse(sql: string): Promise<{ ast: unknown; tableList: string[] }> {
  let firstError: unknown
  try {
    const result = mysqlParser.parse(sql, { database: 'MySQL' })
    return { ast: result.ast, tableList: result.tableList }
  } catch (cause) {
    firstError = cause
  }
  try {
    const result = (await loadMariadbParser()).parse(sql, { database: 'MariaDB' })
    return { ast: result.ast, tableList: result.tableList }
  } catch {
    // The MySQL grammar's complaint is the one reported: MySQL is what most callers write.
  }
  const detail = firstError instanceof Error ? firstError.message.slice(0, 300) : 'unknown parser error'
  throw new GuardError('SQL_PARSE_FAILED', `MySQL could not parse the statement: ${detail}`, { cause: firstError })
}

function refuse(mode: SqlMode, reason: string): GuardError {
  return mode === 'read-only'
    ? new GuardError('SQL_NOT_READ_ONLY', `not read-only: ${reason}`)
    : new GuardError('SQL_NOT_ALLOWED', `refused in every mode: ${reason}`)
}

function functionName(node: Json): { name: string; schema: string | undefined } | undefined {
  if (node['type'] === 'aggr_func' && typeof node['name'] === 'string') return { name: node['name'], schema: undefined }
  const name = node['name']
  if (node['type'] !== 'function' || !isObject(name)) return undefined
  const parts = Array.isArray(name['name']) ? name['name'] : []
  const values = parts.map((p) => (isObject(p) && typeof p['value'] === 'string' ? p['value'] : ''))
  const schema = isObject(name['schema']) && typeof name['schema']['value'] === 'string' ? name['schema']['value'] : undefined
  return { name: values.join('.'), schema }
}

/** Checks one MySQL/MariaDB statement; see checkSql for the rules. */
export async function checkMysqlSql(sql: string, mode: SqlMode, isMasked?: MaskedColumnTest, catalogs: SystemCatalogAccess = 'refuse'): Promise<SqlCheck> {
  const facts = scanMysqlText(sql)
  // Executable comments hide code from the parser in every mode.
  if (facts.executableComment) throw refuse(mode, 'executable comment /*! … */ runs hidden SQL')
  if (facts.multipleStatements) throw new GuardError('SQL_MULTIPLE_STATEMENTS', 'expected exactly one statement, found a separator followed by more SQL')
  if (facts.confusable) {
    throw new GuardError('SQL_PARSE_FAILED', 'the statement reads differently under MySQL SQL modes or to the server than to the parser ("--" without a following space, nested comments, or backslashes inside quotes)')
  }
  const { ast, tableList } = await parse(sql)
  const statements = Array.isArray(ast) ? ast : [ast]
  if (statements.length > 1) throw new GuardError('SQL_MULTIPLE_STATEMENTS', `expected exactly one statement, found ${statements.length}`)
  const top: unknown = statements[0]
  if (!isObject(top) || typeof top['type'] !== 'string') throw new GuardError('SQL_PARSE_FAILED', 'the parser returned an unexpected tree')
  const kind = top['type']
  const never = NEVER.get(kind)
  if (never !== undefined) throw refuse(mode, never)
  const object = typeof top['keyword'] === 'string' ? NEVER_OBJECTS.get(top['keyword'].toLowerCase()) : undefined
  if (object !== undefined && (kind === 'create' || kind === 'alter' || kind === 'drop' || kind === 'rename')) throw refuse(mode, object)
  if (mode === 'read-only') {
    if (!READ_ONLY_TOP.has(kind)) throw refuse(mode, `statement ${kind.toUpperCase()} is not a plain read`)
    if (kind === 'explain' && !(isObject(top['expr']) && top['expr']['type'] === 'select')) throw refuse(mode, 'EXPLAIN of a non-SELECT')
    const writing = tableList.find((entry) => !entry.startsWith('select::') && !entry.startsWith(`${kind}::`))
    if (writing !== undefined) throw refuse(mode, `statement touches ${writing.split('::')[0] ?? 'a table'} tables`)
  }
  const functions = new Set<string>()
  walkTree(top, (node, key) => {
    const type = node['type']
    // User variables and temporary tables stay with the pooled connection, readable by the next caller.
    if (type === 'assign') throw refuse(mode, 'assigns a user variable that outlives the call')
    if (typeof node['temporary'] === 'string') throw refuse(mode, 'temporary tables outlive the call on a shared connection')
    if (mode === 'read-only') {
      if (key === 'ast' && type !== 'select') throw refuse(mode, `contains a nested ${String(type)} statement`)
      if (typeof type === 'string' && WRITES.has(type)) throw refuse(mode, `contains a nested ${type} statement`)
      if (typeof node['locking_read'] === 'string' || isObject(node['locking_read'])) throw refuse(mode, `locking clause ${lockingText(node['locking_read'])} takes row locks`)
    }
    const into = node['into']
    if (isObject(into) && (into['type'] === 'into' || into['expr'] !== undefined)) {
      const keyword = typeof into['keyword'] === 'string' ? into['keyword'].toUpperCase() : 'VAR'
      throw refuse(mode, keyword === 'VAR' ? 'SELECT … INTO a user variable outlives the call' : `SELECT … INTO ${keyword} writes its result`)
    }
    const fn = functionName(node)
    if (fn !== undefined) {
      const verdict = judgeMysqlFunction(fn.name, fn.schema, mode)
      if (!verdict.allowed) throw refuse(mode, verdict.reason ?? 'function refused')
      functions.add(fn.schema === undefined ? fn.name.toLowerCase() : `${fn.schema}.${fn.name}`.toLowerCase())
    }
  })
  const systemWrite = mysqlSystemWrite(tableList)
  if (systemWrite !== undefined) throw refuse(mode, systemWrite)
  const systemRead = catalogs === 'allow' ? undefined : mysqlSystemRead(top, tableList)
  if (systemRead !== undefined) throw systemCatalogDenied(systemRead)
  if (isMasked !== undefined) checkMysqlMasking(top, isMasked)
  checkMysqlValueSizes(top)
  const tables = new Set(tableList.map((entry) => entry.split('::').slice(1).filter((p) => p !== 'null').join('.').toLowerCase()))
  const probe = mode === 'read-only' ? mysqlBuiltinProbe([...functions]) : undefined
  return { engine: 'mysql', mode, statementKind: kind, tables: [...tables].sort(), functions: [...functions].sort(), ...(probe === undefined ? {} : { builtinProbe: probe }) }
}

function lockingText(value: unknown): string {
  if (typeof value === 'string') return value.toUpperCase()
  return 'FOR UPDATE/SHARE'
}
