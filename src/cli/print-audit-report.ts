import type { CheckpointReport } from '../audit/check-checkpoints.js'
import type { AuditVerifyResult } from '../audit/verify-audit.js'

type ChainOk = Extract<AuditVerifyResult, { ok: true }>
type CheckpointsOk = Extract<CheckpointReport, { ok: true }>

export interface AuditReportContext {
  /** `OK: …` line's suffix, e.g. ` in 2 files`. */
  readonly scope: string
  /** How a chain that starts after seq 1 is explained: an earlier file, or rows removed by retention. */
  readonly continuation: 'file' | 'table'
  /** Why signatures were not checked, when they were not. */
  readonly noKeyHint: string
}

/**
 * Prints a verified trail: count, head sequence and hash, incidents, what the checkpoints prove
 * and what they do not, and intents without an outcome. Returns whether the log ends sealed.
 */
export function printAuditReport(chain: ChainOk, checkpoints: CheckpointsOk, context: AuditReportContext, print: (line: string) => void): { sealed: boolean } {
  print(`OK: ${chain.records} records${context.scope}, chain intact`)
  print(chain.records === 0 && chain.continuesFrom === undefined ? 'head: none (no records)' : `head: seq ${chain.seq}, sha256 ${chain.head}`)
  if (chain.continuesFrom !== undefined) {
    const { seq, head } = chain.continuesFrom
    print(
      context.continuation === 'file'
        ? `note: the first record continues an earlier file at seq ${seq} (head ${head}); verify both, oldest first, to check the link`
        : `note: records 1..${seq} are not in the table (removed by retention, or deleted): the chain is verified from seq ${seq + 1}, whose prev is ${head}`,
    )
  }
  const { repaired, reopened, recovered } = chain.incidents
  if (repaired + reopened + recovered > 0) {
    print(`note: audit incidents: ${repaired} torn tail(s) moved aside, ${reopened} file reopen(s), ${recovered} recovery(ies) after write failures`)
  }
  const { last, unproven } = checkpoints
  if (checkpoints.count > 0) {
    const signatures = checkpoints.signatures === 'verified' ? 'signatures verified' : `signatures NOT checked (${context.noKeyHint})`
    const covers = last === undefined ? 'none covers these records' : `the last covers seq ${last.seq} (${last.ts}, key ${last.keyId})`
    const earlier = checkpoints.earlier > 0 ? `; ${checkpoints.earlier} cover earlier records only` : ''
    print(`checkpoints: ${checkpoints.count}, ${signatures}; ${covers}${earlier}`)
  }
  if (checkpoints.sealed) print('sealed: the last checkpoint covers the last record')
  if (unproven !== undefined) {
    const range = unproven.from === unproven.to ? `record ${unproven.from} comes` : `records ${unproven.from}..${unproven.to} (${unproven.to - unproven.from + 1}) come`
    print(
      last === undefined
        ? `warning: unsealed: no checkpoint covers these records, so nothing proves that ${unproven.from === unproven.to ? `record ${unproven.from} is` : `records ${unproven.from}..${unproven.to} are`} all there (a cut tail cannot be detected)`
        : `warning: the log ends unsealed (a crash, or records cut after the last checkpoint): ${range} after the last checkpoint and are unproven`,
    )
  }
  if (chain.openIntents.length > 0) {
    print(`warning: ${chain.openIntents.length} tool call(s) with an intent but no outcome (stopped or crashed mid-call; the action may have run):`)
    for (const intent of chain.openIntents) print(`  id=${intent.correlationId} tool=${intent.tool ?? '?'} sub=${intent.sub ?? '?'} at ${intent.ts} (#${intent.seq})`)
  }
  return { sealed: unproven === undefined }
}
