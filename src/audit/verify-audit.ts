import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { ConfigError } from '../errors.js'
import { AUDIT_GENESIS_PREV, auditRecordHeaderSchema, hashAuditLine } from './audit-chain.js'
import { createIntentTracker, type OpenIntent } from './track-intents.js'

export type AuditVerifyReason =
  /** Not JSON (including an empty line). */
  | 'unparsable'
  /** JSON, but without a valid `seq`, `ts` or `prev`. */
  | 'invalid_record'
  /** The first record does not start the chain from the genesis value. */
  | 'broken_chain'
  /** `seq` jumped forward: records are missing here (or were moved). */
  | 'seq_gap'
  /** `seq` went backwards or repeated: records were moved or duplicated. */
  | 'reordered'
  /** This line no longer hashes to the `prev` its successor recorded. */
  | 'edited'
  /** The file ends without a newline: the last record was cut short. */
  | 'truncated'

/** How many records of the log's own incidents (torn tail repaired, file reopened, writes recovered). */
export interface AuditIncidents {
  readonly repaired: number
  readonly reopened: number
  readonly recovered: number
}

export type AuditVerifyResult =
  | {
      readonly ok: true
      readonly records: number
      /** Hash of the last record: what the next record (or the next file's first) must hold as `prev`. */
      readonly head: string
      /** `seq` of the last record. */
      readonly seq: number
      /**
       * Set when the first record is an `audit.reopened` that continues an earlier file (the log's
       * file was moved or deleted under it): that file's last `seq` and head hash. Verify the files
       * together, oldest first, to check the link.
       */
      readonly continuesFrom?: { readonly seq: number; readonly head: string }
      /** `tools.intent` records without a `tools.call` outcome: calls that may have run unrecorded. */
      readonly openIntents: readonly OpenIntent[]
      readonly incidents: AuditIncidents
    }
  | { readonly ok: false; readonly line: number; readonly reason: AuditVerifyReason; readonly message: string }

type Failure = Extract<AuditVerifyResult, { ok: false }>

/**
 * Incremental chain check: feed lines in order, get the first failure. Removing records from the
 * end of a log cannot be seen from the log alone: check signed checkpoints of its head
 * (`createCheckpointCheck`, fed through `observe`).
 */
export interface AuditChainVerifier {
  push(line: Uint8Array | string): Failure | undefined
  result(): AuditVerifyResult
}

export interface AuditChainVerifierOptions {
  /** Called with each accepted record's `seq` and line hash, in order (checkpoint checks). */
  readonly observe?: (seq: number, hash: string) => void
  /**
   * Accept a first record with any `seq` and `prev` as the continuation of records no longer
   * present (a table pruned by retention); reported as `continuesFrom`. Default: only a first
   * `audit.reopened` record may continue an earlier file.
   */
  readonly allowLaterStart?: boolean
}

export function createAuditChainVerifier(options: AuditChainVerifierOptions = {}): AuditChainVerifier {
  let lineNo = 0
  let records = 0
  let seq = 0
  let prev = AUDIT_GENESIS_PREV
  let continuesFrom: { seq: number; head: string } | undefined
  let failure: Failure | undefined
  const intents = createIntentTracker()
  const incidents = { repaired: 0, reopened: 0, recovered: 0 }

  function fail(line: number, reason: AuditVerifyReason, message: string): Failure {
    failure = { ok: false, line, reason, message }
    return failure
  }

  function check(line: Uint8Array | string): Failure | undefined {
    lineNo += 1
    const text = typeof line === 'string' ? line : Buffer.from(line).toString('utf8')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return fail(lineNo, 'unparsable', 'line is not JSON')
    }
    const header = auditRecordHeaderSchema.safeParse(parsed)
    if (!header.success) return fail(lineNo, 'invalid_record', 'line lacks a valid seq, ts or prev')
    const type = header.data['type']
    // A log reopened after its file was moved or deleted continues the chain in a new file.
    if (lineNo === 1 && header.data.seq > 1 && (type === 'audit.reopened' || options.allowLaterStart === true)) {
      continuesFrom = { seq: header.data.seq - 1, head: header.data.prev }
      seq = continuesFrom.seq
      prev = continuesFrom.head
    }
    const expected = seq + 1
    if (header.data.seq > expected) {
      return fail(lineNo, 'seq_gap', `expected seq ${expected}, found ${header.data.seq}: records missing or out of order`)
    }
    if (header.data.seq < expected) {
      return fail(lineNo, 'reordered', `expected seq ${expected}, found ${header.data.seq}: records moved or duplicated`)
    }
    if (header.data.prev !== prev) {
      if (lineNo === 1) return fail(1, 'broken_chain', 'first record does not start from the genesis value')
      return fail(lineNo - 1, 'edited', 'record does not match the hash the next record holds')
    }
    seq = header.data.seq
    prev = hashAuditLine(line)
    options.observe?.(seq, prev)
    records += 1
    intents.push(header.data)
    if (type === 'audit.repaired') incidents.repaired += 1
    if (type === 'audit.reopened') incidents.reopened += 1
    if (type === 'audit.recovered') incidents.recovered += 1
    return undefined
  }

  return {
    push: (line) => failure ?? check(line),
    result: () =>
      failure ?? { ok: true, records, head: prev, seq, ...(continuesFrom === undefined ? {} : { continuesFrom }), openIntents: intents.open(), incidents: { ...incidents } },
  }
}

/** Verifies a whole log given as lines (without their `\n`); reports the first problem. */
export function verifyAuditLines(lines: Iterable<string | Uint8Array>): AuditVerifyResult {
  const verifier = createAuditChainVerifier()
  for (const line of lines) {
    if (verifier.push(line) !== undefined) break
  }
  return verifier.result()
}

export type AuditFilesVerifyResult = Exclude<AuditVerifyResult, Failure> | (Failure & { readonly file: string })

/** {@link verifyAuditFiles} for one file. */
export function verifyAuditFile(path: string): Promise<AuditFilesVerifyResult> {
  return verifyAuditFiles([path])
}

/**
 * Streams log files, oldest first, through one verifier as if they were one log, hashing each
 * line's raw bytes: a file that continues another (`audit.reopened`) must continue exactly the
 * file before it. A file that does not end with `\n` fails as 'truncated' at its last line.
 * Failures name the file and the line in it. I/O errors (missing file…) are thrown, and
 * ConfigError CONFIG_INVALID for a path that is not a regular file (a FIFO would read as empty).
 */
export async function verifyAuditFiles(paths: readonly string[], options: AuditChainVerifierOptions = {}): Promise<AuditFilesVerifyResult> {
  const verifier = createAuditChainVerifier(options)
  // Global line number at which each file starts, to report failures per file.
  const starts: number[] = []
  let global = 0
  const locate = (failure: Failure): Failure & { file: string } => {
    let index = 0
    while (index + 1 < starts.length && (starts[index + 1] ?? Infinity) <= failure.line) index += 1
    return { ...failure, file: paths[index] ?? '', line: failure.line - (starts[index] ?? 1) + 1 }
  }
  for (const path of paths) {
    starts.push(global + 1)
    // O_NONBLOCK: a FIFO given by mistake must not hang the command.
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
    try {
      if (!(await handle.stat()).isFile()) throw new ConfigError('CONFIG_INVALID', 'not a regular file')
      let carry = Buffer.alloc(0)
      for await (const chunk of handle.createReadStream({ highWaterMark: 256 * 1024, autoClose: false })) {
        if (!Buffer.isBuffer(chunk)) throw new TypeError('expected a byte stream')
        let data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk])
        let newline = data.indexOf(0x0a)
        while (newline >= 0) {
          global += 1
          const failure = verifier.push(data.subarray(0, newline))
          if (failure !== undefined) return locate(failure)
          data = data.subarray(newline + 1)
          newline = data.indexOf(0x0a)
        }
        carry = Buffer.from(data)
      }
      if (carry.length > 0) {
        return locate({ ok: false, line: global + 1, reason: 'truncated', message: 'last line has no trailing newline: record cut short' })
      }
    } finally {
      await handle.close()
    }
  }
  const result = verifier.result()
  return result.ok ? result : locate(result)
}
