// The bare server's sql_query and ssm_run: the gateway's own building blocks for reaching AWS and
// shaping the answer (runStatement, the row conversion and table; SendCommand and the invocation
// wait), without what the gateway adds around them: no SQL or shell guard, no catalog probe, no
// masking, no command template or instance-side path check. The benchmark's baseline is the same
// tool with none of Airlock's own work, so what the gateway adds is all of it. Never registered in
// the product: only bench/servers/bare-tools-server.ts uses these.
import { sendBounded } from '../../src/aws/bounded-send.js'
import type { AnyToolContext, ToolResult } from '../../tools/define-tool.js'
import { columnInfo, fieldToValue, valueToField } from '../../tools/sql-query/field-to-value.js'
import { formatResultTable } from '../../tools/sql-query/format-result-table.js'
import { runStatement } from '../../tools/sql-query/run-statement.js'
import { runDeadline, runShellScript } from '../../tools/ssm-run/run-shell-script.js'
import { waitForInvocation } from '../../tools/ssm-run/wait-for-invocation.js'

type Handler = (ctx: AnyToolContext) => Promise<ToolResult>

function connectionOf<K extends string>(ctx: AnyToolContext, kind: K) {
  const connection = ctx.connection
  if (connection?.kind !== kind) throw new TypeError(`the bench policy gives ${kind} tools a ${kind} connection`)
  return connection as Extract<NonNullable<AnyToolContext['connection']>, { kind: K }>
}

const sqlQuery: Handler = async (ctx) => {
  const connection = connectionOf(ctx, 'rds-data')
  const limits = ctx.grant.sql
  if (limits === undefined) throw new TypeError('the bench grant has sql limits')
  const sql = String(ctx.args.sql)
  const given = (ctx.args.parameters ?? {}) as Record<string, string | number | boolean | null>
  const { output } = await runStatement({
    client: ctx.deps.aws.rdsData({ region: connection.region, roleArn: connection.roleArn, principal: ctx.principal }),
    engine: connection.engine,
    mode: limits.mode,
    resourceArn: connection.resourceArn,
    secretArn: limits.mode === 'read-only' ? connection.readOnlySecretArn ?? connection.secretArn : connection.secretArn,
    database: connection.database,
    sql,
    parameters: Object.entries(given).map(([name, value]) => ({ name, value: valueToField(value) })),
    timeoutMs: limits.timeoutSeconds * 1000,
    clock: ctx.deps.clock,
    mysqlFlavours: ctx.deps.mysqlFlavours,
    signal: ctx.signal,
    progress: () => undefined,
  })
  const records = output.records ?? []
  const truncated = records.length > limits.maxRows
  const columns = (output.columnMetadata ?? []).map(columnInfo)
  const rows = (truncated ? records.slice(0, limits.maxRows) : records).map((record) => record.map(fieldToValue))
  return {
    text: formatResultTable(columns, rows, truncated, limits.maxRows),
    structured: { columns: columns.map(({ name, type }) => ({ name, type })), rows, rowCount: rows.length, truncated },
  }
}

const ssmRun: Handler = async (ctx) => {
  const connection = connectionOf(ctx, 'ssm')
  const timeoutSeconds = ctx.grant.ssm?.timeoutSeconds ?? 30
  const ssm = ctx.deps.aws.ssm({ region: connection.region, roleArn: connection.roleArn, principal: ctx.principal })
  const clock = ctx.deps.clock
  const started = clock.now()
  const deadline = runDeadline(started, timeoutSeconds)
  const instanceId = await ctx.deps.instances.resolve(connection, String(ctx.args.instance), ssm, { signal: ctx.signal, deadline })
  const sent = await sendBounded((options) => ssm.send(runShellScript(instanceId, String(ctx.args.command), timeoutSeconds), options), {
    label: 'SendCommand',
    signal: ctx.signal,
    timeoutMs: deadline - clock.now(),
  })
  const out = await waitForInvocation({ ssm, commandId: sent.Command?.CommandId ?? '', instanceId, clock, deadline, signal: ctx.signal, progress: ctx.progress })
  const structured = {
    instance: instanceId,
    status: out.Status,
    exitCode: out.ResponseCode ?? -1,
    stdout: out.StandardOutputContent ?? '',
    stderr: out.StandardErrorContent ?? '',
    durationMs: Math.round(clock.now() - started),
  }
  return { text: `${instanceId}: ${structured.status}, exit ${structured.exitCode}\n--- stdout ---\n${structured.stdout}`, structured }
}

/** The bare server's handlers in place of the tools' own, by tool name. */
export const UNGUARDED_HANDLERS: Readonly<Record<string, Handler>> = { sql_query: sqlQuery, ssm_run: ssmRun }
