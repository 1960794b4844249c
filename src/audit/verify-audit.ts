import { open } from 'node:fs/promises'
import { AUDIT_GENESIS_PREV, auditRecordHeaderSchema, hashAuditLine } from './audit-chain.js'

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

export type AuditVerifyResult =
  | { readonly ok: true; readonly records: number; readonly head: string }
  | { readonly ok: false; readonly line: number; readonly reason: AuditVerifyReason; readonly message: string }

type Failure = Extract<AuditVerifyResult, { ok: false }>

/**
 * Incremental chain check: feed lines in order, get the first failure. Removing records from the
 * end of a log cannot be seen from the log alone; compare `head` with a value kept elsewhere.
 */
export interface AuditChainVerifier {
  push(line: Uint8Array | string): Failure | undefined
  result(): AuditVerifyResult
}

export function createAuditChainVerifier(): AuditChainVerifier {
  let lineNo = 0
  let records = 0
  let seq = 0
  let prev = AUDIT_GENESIS_PREV
  let failure: Failure | undefined

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
    const expected = seq + 1
    if (header.data.seq > expected) {
      return fail(lineNo, 'seq_gap', `expected seq ${expected}, found ${header.data.seq}: records missing or out of order`)
    }
    if (header.data.seq < expected) {
      return fail(lineNo, 'reordered', `expected seq ${expected}, found ${header.data.seq}: records moved or duplicated`)
    }
    if (header.data.prev !== prev) {
      if (lineNo === 1) return fail(1, 'broken_chain', 'first record does not start from the genesis value')
      return fail(lineNo - 1, 'edited', `record does not match the hash recorded by line ${lineNo}`)
    }
    seq = header.data.seq
    prev = hashAuditLine(line)
    records += 1
    return undefined
  }

  return {
    push: (line) => failure ?? check(line),
    result: () => failure ?? { ok: true, records, head: prev },
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

/**
 * Streams a log file through the verifier, hashing each line's raw bytes. A file that does not
 * end with `\n` fails as 'truncated' at its last line. I/O errors (missing file…) are thrown.
 */
export async function verifyAuditFile(path: string): Promise<AuditVerifyResult> {
  const verifier = createAuditChainVerifier()
  const handle = await open(path, 'r')
  let lineNo = 0
  try {
    let carry = Buffer.alloc(0)
    for await (const chunk of handle.createReadStream({ highWaterMark: 256 * 1024, autoClose: false })) {
      if (!Buffer.isBuffer(chunk)) throw new TypeError('expected a byte stream')
      let data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk])
      let newline = data.indexOf(0x0a)
      while (newline >= 0) {
        lineNo += 1
        const failure = verifier.push(data.subarray(0, newline))
        if (failure !== undefined) return failure
        data = data.subarray(newline + 1)
        newline = data.indexOf(0x0a)
      }
      carry = Buffer.from(data)
    }
    if (carry.length > 0) {
      return { ok: false, line: lineNo + 1, reason: 'truncated', message: 'last line has no trailing newline: record cut short' }
    }
    return verifier.result()
  } finally {
    await handle.close()
  }
}
