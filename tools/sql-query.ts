import { z } from 'zod'
import { InputError } from '../src/errors.js'
import { createResultMasker } from '../src/guard/masking/create-result-masker.js'
import { PolicyError } from '../src/errors.js'
import { checkSql } from '../src/guard/sql/check-sql.js'
import { defineTool } from './define-tool.js'
import { columnInfo, fieldToValue, valueToField } from './sql-query/field-to-value.js'
import type { CellValue } from './sql-query/field-to-value.js'
import { formatResultTable } from './sql-query/format-result-table.js'
import { withoutDataValues } from './sql-query/redact-database-message.js'
import { runStatement } from './sql-query/run-statement.js'

/** The Data API refuses longer SQL text (ExecuteStatement `sql`: 65,536); counted in UTF-8 bytes to be safe. */
export const MAX_SQL_BYTES = 64 * 1024
const MAX_PARAMETER_CHARS = 100 * 1024
const MAX_PARAMETERS = 200
const sqlTooLarge = (sql: string) => Buffer.byteLength(sql, 'utf8') > MAX_SQL_BYTES

const parameterName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a parameter name such as "user_id"')
const parameterValue = z.union([z.string().max(MAX_PARAMETER_CHARS), z.number(), z.boolean(), z.null()])

export default defineTool({
  name: 'sql_query',
  title: 'Run one SQL statement',
  description:
    'Runs exactly one SQL statement on a database connection through the RDS Data API and returns the rows. ' +
    'Read-only grants accept plain SELECT/VALUES/TABLE, SHOW and EXPLAIN (no ANALYZE) calling built-in functions only; ' +
    'read-write grants also accept DML and DDL. Pass values as `parameters` and refer to them as `:name` in the SQL. ' +
    'Results are capped at the grant\'s row limit and sensitive values may be masked; ' +
    'a masked column may only be selected as is (no alias, expression, filter, join or ordering on it). ' +
    'System catalogs and server state (accounts, sessions, settings) are refused unless the grant allows them; ' +
    'information_schema.tables/columns and the pg_class family of schema listings are always readable.',
  connectionKinds: ['rds-data'],
  input: {
    sql: z
      .string()
      .min(1)
      .max(MAX_SQL_BYTES)
      .refine((sql) => !sqlTooLarge(sql), `at most ${MAX_SQL_BYTES} bytes of SQL (UTF-8), the RDS Data API's limit`)
      .describe('One SQL statement (at most 64 KiB as UTF-8); use :name placeholders for values.'),
    parameters: z
      .record(parameterName, parameterValue)
      .refine((p) => Object.keys(p).length <= MAX_PARAMETERS, `at most ${MAX_PARAMETERS} parameters`)
      .optional()
      .describe('Values bound to :name placeholders (never spliced into the SQL).'),
  },
  output: {
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
    rows: z.array(z.array(z.unknown())),
    rowCount: z.number().int(),
    truncated: z.boolean(),
  },
  annotations(grant) {
    // A built policy gives every grant reaching a database a sql block (read-only by default).
    const readOnly = grant.sql?.mode !== 'read-write'
    return { readOnlyHint: readOnly, destructiveHint: !readOnly, idempotentHint: readOnly, openWorldHint: false }
  },
  // The sql block's own switches keep working for query results: what it turns off stays off.
  outputDetectors: (grant) => grant.sql?.detectors ?? {},
  async handler(ctx) {
    const constraints = ctx.grant.sql
    // Unreachable through a built policy (it fills in the defaults); fail closed anyway.
    if (constraints === undefined) throw new PolicyError('POLICY_DENIED', `grant "${ctx.grant.id}" allows sql_query but has no sql limits`)
    const connection = ctx.connection
    // The input schema refuses this already; checked again so no caller reaches AWS with it.
    if (sqlTooLarge(ctx.args.sql)) throw new InputError('INPUT_INVALID', `sql: at most ${MAX_SQL_BYTES} bytes of SQL (UTF-8), the RDS Data API's limit`)
    // Denials happen here, before any AWS call.
    // Masking matches output labels, so the guard keeps masked columns from being read any other way.
    const check = await checkSql({
      engine: connection.engine,
      sql: ctx.args.sql,
      mode: constraints.mode,
      maskedColumns: Object.keys(constraints.maskColumns),
      allowSystemCatalogs: constraints.allowSystemCatalogs,
    })
    const parameters = Object.entries(ctx.args.parameters ?? {}).map(([name, value]) => ({ name, value: valueToField(value) }))
    const client = ctx.deps.aws.rdsData({ region: connection.region, roleArn: connection.roleArn, principal: ctx.principal })
    const secretArn = constraints.mode === 'read-only' ? connection.readOnlySecretArn ?? connection.secretArn : connection.secretArn
    const notify = (message: string, progress: number) => {
      ctx.progress({ progress, total: 3, message }).catch(() => undefined)
    }
    notify('starting transaction', 0)
    const { output, rolledBack } = await runStatement({
      client,
      engine: connection.engine,
      mode: constraints.mode,
      resourceArn: connection.resourceArn,
      secretArn,
      database: connection.database,
      sql: ctx.args.sql,
      parameters,
      timeoutMs: constraints.timeoutSeconds * 1000,
      clock: ctx.deps.clock,
      mysqlFlavours: ctx.deps.mysqlFlavours,
      ...(check.builtinProbe === undefined ? {} : { builtinProbe: check.builtinProbe }),
      signal: ctx.signal,
      progress: (message) => notify(message, 1),
    }).catch((error: unknown) => {
      throw withoutDataValues(error, constraints.detectors)
    })
    const records = output.records ?? []
    const truncated = records.length > constraints.maxRows
    const kept = truncated ? records.slice(0, constraints.maxRows) : records
    notify(`fetched ${records.length} rows`, 2)
    const columns = (output.columnMetadata ?? []).map(columnInfo)
    const rows: CellValue[][] = kept.map((record) => record.map(fieldToValue))
    const masked = createResultMasker(constraints)({ columns, rows })
    const returnsRows = columns.length > 0
    const rowCount = returnsRows ? masked.rows.length : output.numberOfRecordsUpdated ?? 0
    const text = returnsRows
      ? formatResultTable(columns, masked.rows, truncated, constraints.maxRows)
      : `OK, ${rowCount} row${rowCount === 1 ? '' : 's'} affected`
    notify('done', 3)
    return {
      text,
      structured: { columns: columns.map(({ name, type }) => ({ name, type })), rows: masked.rows, rowCount, truncated },
      audit: {
        engine: check.engine,
        mode: check.mode,
        statementKind: check.statementKind,
        tables: check.tables,
        functions: check.functions,
        parameterNames: parameters.map((p) => p.name),
        readOnlySecret: secretArn !== connection.secretArn,
        rowCount,
        rowsReturnedByDatabase: records.length,
        truncated,
        masking: masked.report,
        ...(constraints.mode === 'read-only' ? { rolledBack } : {}),
      },
    }
  },
})
