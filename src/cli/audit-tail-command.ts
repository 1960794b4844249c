import { z } from 'zod'
import { readTailLines } from '../audit/read-tail-lines.js'
import { tailPostgresTrail } from '../audit/verify-postgres-trail.js'
import { ConfigError } from '../errors.js'
import { resolveAuditSource, withAuditDatabase, type AuditSource } from './audit-source.js'
import type { CliCommand } from './cli-io.js'
import { failureText, sanitize } from './cli-text.js'
import { parseFlags, usageError, USAGE_ERROR } from './parse-flags.js'

/**
 * `airlock audit tail`: prints the last N (default 10) records of a file or a PostgreSQL audit
 * table, one compact line each (`#seq ts type key=value…`). Usage errors exit 2, a trail that
 * cannot be read 1.
 */
export const auditTailCommand: CliCommand = async function auditTailCommand(argv, io) {
  const parsed = parseFlags(
    argv,
    { n: { type: 'string', short: 'n' }, postgres: { type: 'string' }, schema: { type: 'string' }, table: { type: 'string' }, config: { type: 'string' } },
    'audit tail',
    io,
  )
  if (parsed === undefined) return USAGE_ERROR
  const { values, positionals } = parsed
  const count = values.n === undefined ? 10 : Number(values.n)
  let source: AuditSource | undefined
  try {
    source = await resolveAuditSource({ positionals, postgres: values.postgres, schema: values.schema, table: values.table, config: values.config }, io)
  } catch (error) {
    io.stderr(`airlock: ${failureText(error)}\n`)
    return error instanceof ConfigError ? 2 : 1
  }
  if (source === undefined || (source.kind === 'files' && source.paths.length !== 1)) return usageError(io, 'audit tail', 'give one file, --postgres or --config')
  if (!Number.isInteger(count) || count < 1 || count > 100_000) return usageError(io, 'audit tail', '-n: expected a whole number from 1 to 100000')
  let lines: string[]
  try {
    if (source.kind === 'files') {
      lines = (await readTailLines(source.paths[0] ?? '', count)).lines.map((line) => line.toString('utf8'))
    } else {
      const { tables } = source
      lines = await withAuditDatabase(source.url, (db) => tailPostgresTrail(db, tables, count))
    }
  } catch (error) {
    io.stderr(`${source.kind === 'files' ? source.files[0] : source.tables.label}: cannot read (${failureText(error)})\n`)
    return 1
  }
  for (const line of lines) io.stdout(`${formatRecord(line)}\n`)
  return 0
}

const recordView = z.looseObject({
  seq: z.number(),
  ts: z.string(),
  type: z.string(),
  actor: z.looseObject({ sub: z.string().optional() }).optional(),
  tool: z.string().optional(),
  connection: z.string().optional(),
  grantId: z.string().optional(),
  decision: z.string().optional(),
  outcome: z.string().optional(),
  code: z.string().optional(),
  durationMs: z.number().optional(),
  correlationId: z.string().optional(),
})

/** One record as `#seq ts type key=value…`, skipping absent fields. */
function formatRecord(line: string): string {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    return '(unparsable line)'
  }
  const parsed = recordView.safeParse(json)
  if (!parsed.success) return '(not an audit record)'
  const r = parsed.data
  const fields: [string, string | number | undefined][] = [
    ['sub', r.actor?.sub],
    ['tool', r.tool],
    ['conn', r.connection],
    ['grant', r.grantId],
    ['decision', r.decision],
    ['outcome', r.outcome],
    ['code', r.code],
    ['ms', r.durationMs],
    ['id', r.correlationId],
  ]
  const rest = fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}`)
  return sanitize([`#${r.seq}`, r.ts, r.type, ...rest].join(' '))
}
