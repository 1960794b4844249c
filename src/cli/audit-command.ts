import type { KeyObject } from 'node:crypto'
import { resolve } from 'node:path'
import { createCheckpointCheck, type CheckpointReport } from '../audit/check-checkpoints.js'
import { checkpointFilePath, readCheckpointFile, type CheckpointFile } from '../audit/checkpoint-file.js'
import { verifyAuditFiles, type AuditVerifyResult } from '../audit/verify-audit.js'
import { verifyPostgresTrail } from '../audit/verify-postgres-trail.js'
import { ConfigError } from '../errors.js'
import { auditTailCommand } from './audit-tail-command.js'
import { resolveAuditSource, withAuditDatabase, type AuditSource } from './audit-source.js'
import type { CliCommand, CliIo } from './cli-io.js'
import { loadCheckpointPublicKey } from './open-audit-trail.js'
import { failureText, sanitize } from './cli-text.js'
import { parseFlags, usageError, USAGE_ERROR } from './parse-flags.js'
import { printAuditReport } from './print-audit-report.js'

/**
 * `airlock audit verify`: checks a trail's hash chain (files oldest first, or a PostgreSQL table)
 * and its signed checkpoints; prints the head's seq and hash. Exit 1 at the first bad record
 * (`<where>: <reason>: <detail>`), a checkpoint that names missing records (cut tail) or a
 * rewritten one, a bad signature, or when the trail cannot be read. Records after the last
 * checkpoint are reported as unproven (a crash leaves them, and so would a cut tail); exit 1
 * for that only with `--require-seal`. Intents without an outcome are warnings; exit 1 only with
 * `--strict`. Signatures are checked with `--public-key` (repeatable, either half of the pair)
 * or, with `--config`, the configured key. `airlock audit tail`: see auditTailCommand.
 * Usage errors exit 2. `argv` is what follows `airlock audit`.
 */
export const auditCommand: CliCommand = async function auditCommand(argv, io) {
  const [sub, ...rest] = argv
  if (sub === 'verify') return verify(rest, io)
  if (sub === 'tail') return auditTailCommand(rest, io)
  return usageError(io, 'audit', sub === undefined ? 'which one: verify or tail?' : `unknown subcommand ${JSON.stringify(sub)}`)
}

type Verified =
  | { readonly ok: true; readonly chain: Extract<AuditVerifyResult, { ok: true }>; readonly checkpoints: CheckpointReport; readonly notes: readonly string[] }
  | { readonly ok: false; readonly where: string; readonly reason: string; readonly message: string }

async function verify(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseFlags(
    argv,
    {
      strict: { type: 'boolean' },
      'require-seal': { type: 'boolean' },
      'public-key': { type: 'string', multiple: true },
      checkpoints: { type: 'string' },
      postgres: { type: 'string' },
      schema: { type: 'string' },
      table: { type: 'string' },
      config: { type: 'string' },
    },
    'audit verify',
    io,
  )
  if (parsed === undefined) return USAGE_ERROR
  const { values, positionals } = parsed
  let source: AuditSource | undefined
  try {
    source = await resolveAuditSource({ positionals, postgres: values.postgres, schema: values.schema, table: values.table, config: values.config }, io)
  } catch (error) {
    io.stderr(`airlock: ${failureText(error)}\n`)
    return error instanceof ConfigError ? 2 : 1
  }
  if (source === undefined) return usageError(io, 'audit verify', 'what to verify: give files, --postgres or --config')
  if (values.checkpoints !== undefined && source.kind !== 'files') return usageError(io, 'audit verify', '--checkpoints goes with audit files')
  let keys: KeyObject[] | undefined
  try {
    const keyFiles = values['public-key'] ?? (source.keyFile === undefined ? [] : [source.keyFile])
    keys = keyFiles.length === 0 ? undefined : await Promise.all(keyFiles.map((file) => loadCheckpointPublicKey(resolve(io.cwd, file), file)))
  } catch (error) {
    io.stderr(`airlock: ${failureText(error)}\n`)
    return 1
  }
  const noKeyHint = values.config === undefined ? 'no --public-key' : 'no audit.checkpoint.keyFile in the config, and no --public-key'
  let checkpointFile: CheckpointFile | undefined
  let checkpointsNamed = ''
  if (source.kind === 'files') {
    // By default, the checkpoints kept next to the newest file (the log's current path).
    const last = source.files.length - 1
    checkpointsNamed = values.checkpoints ?? checkpointFilePath(source.files[last] ?? '')
    try {
      checkpointFile = await readCheckpointFile(values.checkpoints === undefined ? checkpointFilePath(source.paths[last] ?? '') : resolve(io.cwd, values.checkpoints), checkpointsNamed)
    } catch (error) {
      io.stderr(`${checkpointsNamed}: cannot read (${failureText(error)})\n`)
      return 1
    }
  }
  let verified: Verified
  try {
    verified = source.kind === 'files' ? await verifyFiles(source, checkpointFile, checkpointsNamed, keys) : await verifyTable(source, keys)
  } catch (error) {
    return readFailure(source, error, io)
  }
  if (!verified.ok) {
    io.stdout(`${verified.where}: ${verified.reason}: ${verified.message}\n`)
    return 1
  }
  if (!verified.checkpoints.ok) {
    const { where, reason, message } = verified.checkpoints
    io.stdout(`${where}: ${reason}: ${message}\n`)
    return 1
  }
  const print = (line: string) => io.stdout(`${sanitize(line)}\n`)
  const scope = source.kind === 'files' && source.files.length > 1 ? ` in ${source.files.length} files` : ''
  const { sealed } = printAuditReport(verified.chain, verified.checkpoints, { scope, continuation: source.kind === 'files' ? 'file' : 'table', noKeyHint }, print)
  for (const note of verified.notes) print(note)
  if (values.strict === true && verified.chain.openIntents.length > 0) return 1
  if (values['require-seal'] === true && !sealed) return 1
  return 0
}

async function verifyFiles(source: Extract<AuditSource, { kind: 'files' }>, file: CheckpointFile | undefined, named: string, keys: KeyObject[] | undefined): Promise<Verified> {
  const check = createCheckpointCheck(file?.sources ?? [], keys)
  const chain = await verifyAuditFiles(source.paths, { observe: check.observe })
  if (!chain.ok) {
    const index = source.paths.findIndex((p) => p === chain.file)
    return { ok: false, where: `${source.files[index] ?? chain.file}:${chain.line}`, reason: chain.reason, message: chain.message }
  }
  const firstSeq = chain.continuesFrom === undefined ? 1 : chain.continuesFrom.seq + 1
  const notes = file?.torn === true ? [`note: the last line of ${named} is torn (a crash while writing it) and was ignored`] : []
  return { ok: true, chain, checkpoints: check.result({ firstSeq, seq: chain.seq }), notes }
}

async function verifyTable(source: Extract<AuditSource, { kind: 'postgres' }>, keys: KeyObject[] | undefined): Promise<Verified> {
  const result = await withAuditDatabase(source.url, (db) => verifyPostgresTrail(db, source.tables, keys))
  return result.ok ? { ...result, notes: [] } : result
}

function readFailure(source: AuditSource, error: unknown, io: CliIo): number {
  if (source.kind === 'postgres') {
    io.stderr(`${source.tables.label}: cannot read (${failureText(error)})\n`)
    return 1
  }
  // Report files as the operator named them.
  const path = error instanceof Error && 'path' in error ? error.path : undefined
  const name = source.files[source.paths.findIndex((p) => p === path)] ?? source.files.join(', ')
  io.stderr(`${name}: cannot read (${failureText(error)})\n`)
  return 1
}
