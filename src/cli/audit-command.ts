import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { readTailLines } from '../audit/read-tail-lines.js'
import { verifyAuditFile } from '../audit/verify-audit.js'
import type { CliCommand, CliIo } from './cli-io.js'

const USAGE = 'usage: airlock audit verify <file> | airlock audit tail <file> [-n N]'

/**
 * `airlock audit verify <file>`: checks the hash chain; exit 0 when intact, 1 at the first bad
 * line (`<file>:<line>: <reason>: <detail>`) or when the file cannot be read.
 * `airlock audit tail <file> [-n N]`: prints the last N (default 10) records, one compact line each.
 * Usage errors exit 2. `argv` is what follows `airlock audit`.
 */
export const auditCommand: CliCommand = async function auditCommand(argv, io) {
  const [sub, ...rest] = argv
  if (sub === 'verify') return verify(rest, io)
  if (sub === 'tail') return tail(rest, io)
  io.stderr(`${USAGE}\n`)
  return 2
}

async function verify(argv: readonly string[], io: CliIo): Promise<number> {
  const [file, ...extra] = argv
  if (file === undefined || file.startsWith('-') || extra.length > 0) {
    io.stderr(`usage: airlock audit verify <file>\n`)
    return 2
  }
  let result
  try {
    result = await verifyAuditFile(resolve(io.cwd, file))
  } catch (error) {
    io.stderr(`${file}: cannot read (${errorCode(error)})\n`)
    return 1
  }
  if (result.ok) {
    io.stdout(`OK: ${result.records} records, chain intact\n`)
    return 0
  }
  io.stdout(`${file}:${result.line}: ${result.reason}: ${result.message}\n`)
  return 1
}

async function tail(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: { n: { type: 'string', short: 'n' } }, allowPositionals: true, strict: true })
  } catch {
    io.stderr('usage: airlock audit tail <file> [-n N]\n')
    return 2
  }
  const [file, ...extra] = parsed.positionals
  const count = parsed.values.n === undefined ? 10 : Number(parsed.values.n)
  if (file === undefined || extra.length > 0 || !Number.isInteger(count) || count < 1 || count > 100_000) {
    io.stderr('usage: airlock audit tail <file> [-n N]  (N: 1..100000)\n')
    return 2
  }
  let lines
  try {
    ;({ lines } = await readTailLines(resolve(io.cwd, file), count))
  } catch (error) {
    io.stderr(`${file}: cannot read (${errorCode(error)})\n`)
    return 1
  }
  for (const line of lines) io.stdout(`${formatRecord(line.toString('utf8'))}\n`)
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
  // Record fields can carry token-supplied text: never pass control characters to a terminal.
  return [`#${r.seq}`, r.ts, r.type, ...rest].join(' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'error'
}
