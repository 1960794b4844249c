import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { readTailLines } from '../audit/read-tail-lines.js'
import { errorCode } from '../audit/open-audit-file.js'
import { verifyAuditFiles } from '../audit/verify-audit.js'
import { ConfigError } from '../errors.js'
import type { CliCommand, CliIo } from './cli-io.js'

const USAGE = 'usage: airlock audit verify [--strict] <file>... | airlock audit tail <file> [-n N]'
const VERIFY_USAGE = 'usage: airlock audit verify [--strict] <file>...  (several files: oldest first)'

/**
 * `airlock audit verify [--strict] <file>...`: checks the hash chain, across files given oldest
 * first (a file reopened after the previous one was moved or deleted continues its chain); exit 1
 * at the first bad line (`<file>:<line>: <reason>: <detail>`) or when a file cannot be read.
 * Intents (`tools.intent`) without an outcome (`tools.call` with the same correlation id) are
 * listed as warnings: the process stopped or crashed mid-call and the action may have run. The
 * chain is still intact, so the exit code stays 0 unless `--strict`, which makes it 1.
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
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: { strict: { type: 'boolean' } }, allowPositionals: true, strict: true })
  } catch {
    io.stderr(`${VERIFY_USAGE}\n`)
    return 2
  }
  const files = parsed.positionals
  if (files.length === 0) {
    io.stderr(`${VERIFY_USAGE}\n`)
    return 2
  }
  const paths = files.map((file) => resolve(io.cwd, file))
  // Report files as the operator named them.
  const named = (path: unknown): string => files[paths.findIndex((p) => p === path)] ?? files.join(', ')
  let result
  try {
    result = await verifyAuditFiles(paths)
  } catch (error) {
    io.stderr(`${named(error instanceof Error && 'path' in error ? error.path : undefined)}: cannot read (${failureText(error)})\n`)
    return 1
  }
  if (!result.ok) {
    const file = named(result.file)
    io.stdout(`${file}:${result.line}: ${result.reason}: ${result.message}\n`)
    return 1
  }
  io.stdout(`OK: ${result.records} records${files.length > 1 ? ` in ${files.length} files` : ''}, chain intact\n`)
  if (result.continuesFrom !== undefined) {
    io.stdout(`note: the first record continues an earlier file at seq ${result.continuesFrom.seq} (head ${result.continuesFrom.head}); verify both, oldest first, to check the link\n`)
  }
  const { repaired, reopened, recovered } = result.incidents
  if (repaired + reopened + recovered > 0) {
    io.stdout(`note: audit incidents: ${repaired} torn tail(s) moved aside, ${reopened} file reopen(s), ${recovered} recovery(ies) after write failures\n`)
  }
  if (result.openIntents.length > 0) {
    io.stdout(`warning: ${result.openIntents.length} tool call(s) with an intent but no outcome (stopped or crashed mid-call; the action may have run):\n`)
    for (const intent of result.openIntents) {
      const line = `  id=${intent.correlationId} tool=${intent.tool ?? '?'} sub=${intent.sub ?? '?'} at ${intent.ts} (#${intent.seq})`
      io.stdout(`${sanitize(line)}\n`)
    }
    if (parsed.values.strict === true) return 1
  }
  return 0
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
    io.stderr(`${file}: cannot read (${failureText(error)})\n`)
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
  return sanitize([`#${r.seq}`, r.ts, r.type, ...rest].join(' '))
}

/** Record fields can carry token-supplied text: never pass control characters to a terminal. */
function sanitize(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

function failureText(error: unknown): string {
  return error instanceof ConfigError ? error.message : errorCode(error)
}
