import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GuardError } from '../../../src/errors.js'
import type { GuardErrorCode } from '../../../src/errors.js'
import { checkSql } from '../../../src/guard/sql/check-sql.js'
import type { SqlCheckRequest, SqlEngine, SqlMode } from '../../../src/guard/sql/sql-check-request.js'
import {
  mysqlCatalogReads,
  mysqlHarmlessCatalogReads,
  mysqlSystemWrites,
  postgresCatalogReads,
  postgresComputingFunctions,
  postgresExtensionStateViews,
  postgresHarmlessCatalogReads,
  postgresOrdinaryTargets,
  postgresServerStateFunctions,
  postgresServerStateLookalikes,
  postgresSystemTargets,
} from './sql-catalog-fixtures.js'

const MODES: readonly SqlMode[] = ['read-only', 'read-write']
const OPT_IN = '; an administrator can allow it for this grant with "sql": { "allowSystemCatalogs": true }'

async function refusal(request: SqlCheckRequest): Promise<GuardError> {
  const error: unknown = await checkSql(request).then(
    (check) => assert.fail(`allowed (${JSON.stringify(check)}): ${request.sql}`),
    (rejection: unknown) => rejection,
  )
  assert.ok(error instanceof GuardError, `expected GuardError, got ${String(error)}`)
  return error
}

async function refused(request: SqlCheckRequest, code: GuardErrorCode, message: string | RegExp): Promise<void> {
  const error = await refusal(request)
  assert.equal(error.code, code, `${request.sql}: ${error.message}`)
  if (typeof message === 'string') assert.equal(error.message, message, request.sql)
  else assert.match(error.message, message, request.sql)
}

async function allowed(engine: SqlEngine, sql: string, mode: SqlMode, allowSystemCatalogs?: boolean): Promise<void> {
  const check = await checkSql({ engine, sql, mode, ...(allowSystemCatalogs === undefined ? {} : { allowSystemCatalogs }) })
  assert.equal(check.mode, mode, sql)
}

describe('system catalogs and server state, PostgreSQL', () => {
  for (const { sql, names } of postgresCatalogReads) {
    for (const mode of MODES) {
      it(`refuses ${sql} (${mode}), naming ${names} and the opt-in`, async () => {
        const error = await refusal({ engine: 'postgres', sql, mode })
        assert.equal(error.code, 'SQL_SYSTEM_CATALOG', error.message)
        assert.ok(error.message.includes(names), `${error.message} does not name ${names}`)
        assert.ok(error.message.endsWith(OPT_IN), `${error.message} does not say how to opt in`)
        await refused({ engine: 'postgres', sql, mode, allowSystemCatalogs: false }, 'SQL_SYSTEM_CATALOG', error.message)
      })
      it(`allows ${sql} (${mode}) with the opt-in`, () => allowed('postgres', sql, mode, true))
    }
  }
  it('says what it refused, word for word', async () => {
    await refused({ engine: 'postgres', sql: 'SELECT rolpassword FROM pg_authid', mode: 'read-only' }, 'SQL_SYSTEM_CATALOG', `reads pg_catalog.pg_authid, a system catalog or server-state view${OPT_IN}`)
    await refused({ engine: 'postgres', sql: 'SELECT * FROM public.pg_stat_statements', mode: 'read-only' }, 'SQL_SYSTEM_CATALOG', `reads public.pg_stat_statements, a server-state view${OPT_IN}`)
    await refused({ engine: 'postgres', sql: 'SHOW ALL', mode: 'read-write' }, 'SQL_SYSTEM_CATALOG', `SHOW ALL reads every server setting${OPT_IN}`)
    await refused({ engine: 'postgres', sql: "SELECT current_setting('config_file')", mode: 'read-only' }, 'SQL_SYSTEM_CATALOG', `reads the server setting config_file${OPT_IN}`)
    await refused({ engine: 'postgres', sql: 'SELECT * FROM pg_stat_get_activity(NULL)', mode: 'read-write' }, 'SQL_SYSTEM_CATALOG', `function pg_stat_get_activity reads server statistics and other sessions' activity${OPT_IN}`)
  })
  for (const sql of postgresServerStateFunctions) {
    it(`refuses the server-state function in ${sql} (read-write) unless the grant opts in`, async () => {
      await refused({ engine: 'postgres', sql, mode: 'read-write' }, 'SQL_SYSTEM_CATALOG', /^function [a-z_.]+ .+; an administrator can allow it/)
      await allowed('postgres', sql, 'read-write', true)
    })
  }
  for (const sql of postgresComputingFunctions) {
    it(`allows ${sql} (read-write) without the opt-in`, () => allowed('postgres', sql, 'read-write'))
  }
  it('allows functions that only look like server-state ones (read-write)', () => allowed('postgres', postgresServerStateLookalikes, 'read-write'))
  for (const name of postgresExtensionStateViews) {
    it(`refuses the extension view ${name} in any schema, or none`, async () => {
      await refused({ engine: 'postgres', sql: `SELECT * FROM ${name}`, mode: 'read-only' }, 'SQL_SYSTEM_CATALOG', `reads ${name}, a server-state view${OPT_IN}`)
      await refused({ engine: 'postgres', sql: `SELECT * FROM "Ext".${name}`, mode: 'read-write' }, 'SQL_SYSTEM_CATALOG', `reads ext.${name}, a server-state view${OPT_IN}`)
      await allowed('postgres', `SELECT * FROM ext.${name}`, 'read-only', true)
    })
  }
  it('still refuses server-state functions in read-only mode with the opt-in (they are not on the read-only allowlist)', async () => {
    await refused({ engine: 'postgres', sql: 'SELECT * FROM pg_stat_get_activity(NULL)', mode: 'read-only', allowSystemCatalogs: true }, 'SQL_NOT_READ_ONLY', /pg_stat_get_activity/)
  })
  for (const sql of postgresHarmlessCatalogReads) {
    for (const mode of MODES) it(`allows ${sql} (${mode}) without the opt-in`, () => allowed('postgres', sql, mode))
  }
})

describe('statements that change system objects, PostgreSQL', () => {
  it('has at least 30 cases', () => assert.ok(postgresSystemTargets.length >= 30, `${postgresSystemTargets.length} cases`))
  for (const { sql, message } of postgresSystemTargets) {
    it(`refuses ${sql}, opt-in or not`, async () => {
      await refused({ engine: 'postgres', sql, mode: 'read-write' }, 'SQL_NOT_ALLOWED', `refused in every mode: ${message}`)
      await refused({ engine: 'postgres', sql, mode: 'read-write', allowSystemCatalogs: true }, 'SQL_NOT_ALLOWED', `refused in every mode: ${message}`)
      await refused({ engine: 'postgres', sql, mode: 'read-only', allowSystemCatalogs: true }, 'SQL_NOT_READ_ONLY', /^not read-only: /)
    })
  }
  for (const sql of postgresOrdinaryTargets) {
    it(`allows ${sql} (read-write)`, () => allowed('postgres', sql, 'read-write'))
  }
})

describe('system tables and server state, MySQL', () => {
  for (const { sql, names } of mysqlCatalogReads) {
    for (const mode of MODES) {
      it(`refuses ${sql} (${mode}), naming ${names} and the opt-in`, async () => {
        const error = await refusal({ engine: 'mysql', sql, mode })
        assert.equal(error.code, 'SQL_SYSTEM_CATALOG', error.message)
        assert.ok(error.message.includes(names), `${error.message} does not name ${names}`)
        assert.ok(error.message.endsWith(OPT_IN), `${error.message} does not say how to opt in`)
      })
      it(`allows ${sql} (${mode}) with the opt-in`, () => allowed('mysql', sql, mode, true))
    }
  }
  it('says what it refused, word for word', async () => {
    await refused({ engine: 'mysql', sql: 'SELECT * FROM mysql.user', mode: 'read-only' }, 'SQL_SYSTEM_CATALOG', `reads mysql.user, a system table or server-state view${OPT_IN}`)
    await refused({ engine: 'mysql', sql: 'SHOW PROCESSLIST', mode: 'read-only' }, 'SQL_SYSTEM_CATALOG', `SHOW PROCESSLIST reads server state${OPT_IN}`)
    await refused({ engine: 'mysql', sql: 'SELECT @@GLOBAL.general_log_file', mode: 'read-write' }, 'SQL_SYSTEM_CATALOG', `reads the server variable @@global.general_log_file${OPT_IN}`)
    await refused({ engine: 'mysql', sql: "SELECT sys.format_statement('x')", mode: 'read-write' }, 'SQL_SYSTEM_CATALOG', `calls a function of the system schema sys${OPT_IN}`)
  })
  for (const sql of mysqlHarmlessCatalogReads) {
    for (const mode of MODES) it(`allows ${sql} (${mode}) without the opt-in`, () => allowed('mysql', sql, mode))
  }
  for (const { sql, message } of mysqlSystemWrites) {
    it(`refuses ${sql} (read-write), opt-in or not`, async () => {
      await refused({ engine: 'mysql', sql, mode: 'read-write', allowSystemCatalogs: true }, 'SQL_NOT_ALLOWED', `refused in every mode: ${message}`)
      await refused({ engine: 'mysql', sql, mode: 'read-write' }, 'SQL_NOT_ALLOWED', `refused in every mode: ${message}`)
    })
  }
  it('allows writes to ordinary tables that read harmless catalogs', async () => {
    await allowed('mysql', "INSERT INTO accounts (owner) SELECT table_name FROM information_schema.tables WHERE table_schema = 'test'", 'read-write')
    await allowed('mysql', 'UPDATE app.user SET owner = 1', 'read-write')
  })
})
