import type { KeyObject } from 'node:crypto'
import { z } from 'zod'
import { ConfigError } from '../errors.js'
import { int8, rowsOf, type AuditDbClient } from './audit-database.js'
import { createCheckpointCheck, type CheckpointReport } from './check-checkpoints.js'
import type { PostgresAuditTables } from './postgres-audit-tables.js'
import { createAuditChainVerifier, type AuditVerifyReason, type AuditVerifyResult } from './verify-audit.js'

type ChainOk = Extract<AuditVerifyResult, { ok: true }>

export type PostgresTrailVerifyResult =
  | { readonly ok: true; readonly chain: ChainOk; readonly checkpoints: CheckpointReport }
  /** `where`: `schema.table seq N` (or the row position when its seq column is unreadable). */
  | { readonly ok: false; readonly where: string; readonly reason: AuditVerifyReason; readonly message: string }

const recordRow = z.looseObject({
  seq: int8,
  ts: z.date(),
  type: z.string(),
  subject: z.string().nullable(),
  correlation_id: z.string().nullable(),
  hash: z.string(),
  line: z.string(),
})
const checkpointRow = z.looseObject({ seq: int8, checkpoint: z.string() })
const lineView = z.looseObject({
  seq: z.number(),
  ts: z.string(),
  type: z.string(),
  actor: z.looseObject({ sub: z.string().optional() }).optional(),
  correlationId: z.string().optional(),
})

const PAGE = 5_000

/**
 * Verifies a PostgreSQL audit trail in one read-only, repeatable-read snapshot: the hash chain
 * over every row's `line` in `seq` order, each row's lookup columns against its line (an edited
 * `subject` would hide a record from searches), then the signed checkpoints (cut tail, rewrite,
 * forgery; signatures only when `publicKeys` is given). A first row after seq 1 is accepted as a
 * table pruned by retention (`chain.continuesFrom`). Throws ConfigError CONFIG_INVALID when the
 * tables do not exist; database errors are thrown as they are.
 */
export async function verifyPostgresTrail(db: AuditDbClient, tables: PostgresAuditTables, publicKeys?: readonly KeyObject[]): Promise<PostgresTrailVerifyResult> {
  await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  try {
    return await verifyInSnapshot(db, tables, publicKeys)
  } finally {
    await db.query('ROLLBACK').catch(() => {})
  }
}

async function verifyInSnapshot(db: AuditDbClient, tables: PostgresAuditTables, publicKeys: readonly KeyObject[] | undefined): Promise<PostgresTrailVerifyResult> {
  const exists = rowsOf(await db.query(`SELECT to_regclass($1)::text AS records, to_regclass($2)::text AS checkpoints`, [tables.records, tables.checkpoints]), z.looseObject({ records: z.string().nullable(), checkpoints: z.string().nullable() }))[0]
  if (exists?.records == null || exists.checkpoints == null) throw new ConfigError('CONFIG_INVALID', `${tables.label}: no Airlock audit tables (${tables.table}, ${tables.table}_checkpoints)`)
  const stored = rowsOf(await db.query(`SELECT seq, checkpoint FROM ${tables.checkpoints} ORDER BY seq, ts`), checkpointRow)
  const check = createCheckpointCheck(
    stored.map((row) => ({ where: `${tables.label}_checkpoints seq ${row.seq}`, raw: parseJson(row.checkpoint) })),
    publicKeys,
  )
  let lastHash = ''
  const verifier = createAuditChainVerifier({
    allowLaterStart: true,
    observe: (seq, hash) => {
      lastHash = hash
      check.observe(seq, hash)
    },
  })
  // Seq columns of the last two rows pushed: a failure names a row by position (this one or the one before).
  const recent: number[] = []
  let position = 0
  let after = -1
  for (;;) {
    const rows = rowsOf(await db.query(`SELECT seq, ts, type, subject, correlation_id, hash, line FROM ${tables.records} WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [after]), recordRow)
    for (const row of rows) {
      position += 1
      recent.push(row.seq)
      if (recent.length > 2) recent.shift()
      const failure = verifier.push(row.line)
      const where = (line: number) => `${tables.label} seq ${line === position ? row.seq : (recent[0] ?? '?')}`
      if (failure !== undefined) return { ok: false, where: where(failure.line), reason: failure.reason, message: failure.message }
      const mismatch = columnMismatch(row, lastHash)
      if (mismatch !== undefined) return { ok: false, where: where(position), reason: 'edited', message: `the row's ${mismatch} column does not match its record` }
    }
    const last = rows.at(-1)
    if (last === undefined || rows.length < PAGE) break
    after = last.seq
  }
  const chain = verifier.result()
  if (!chain.ok) return { ok: false, where: `${tables.label} row ${chain.line}`, reason: chain.reason, message: chain.message }
  const firstSeq = chain.continuesFrom === undefined ? 1 : chain.continuesFrom.seq + 1
  return { ok: true, chain, checkpoints: check.result({ firstSeq, seq: chain.seq }) }
}

function columnMismatch(row: z.infer<typeof recordRow>, hash: string): string | undefined {
  const parsed = lineView.safeParse(parseJson(row.line))
  if (!parsed.success) return 'type'
  const line = parsed.data
  if (row.seq !== line.seq) return 'seq'
  if (row.ts.getTime() !== Date.parse(line.ts)) return 'ts'
  if (row.hash !== hash) return 'hash'
  if (row.type !== line.type) return 'type'
  if (row.subject !== (line.actor?.sub ?? null)) return 'subject'
  if (row.correlation_id !== (line.correlationId ?? null)) return 'correlation_id'
  return undefined
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** The last `count` records' lines, oldest first. */
export async function tailPostgresTrail(db: AuditDbClient, tables: PostgresAuditTables, count: number): Promise<string[]> {
  const rows = rowsOf(await db.query(`SELECT line FROM ${tables.records} ORDER BY seq DESC LIMIT $1`, [count]), z.looseObject({ line: z.string() }))
  return rows.map((row) => row.line).reverse()
}
