import { createHash } from 'node:crypto'
import type { SqlConstraints } from '../../policy/sql-constraints.js'
import { compileColumnGlob, matchColumnGlob } from './match-column-glob.js'
import type { ColumnGlob } from './match-column-glob.js'
import { redactSensitiveText } from './detect-sensitive-values.js'
import type { DetectorName } from './detect-sensitive-values.js'

export type MaskRule = SqlConstraints['maskColumns'][string]

export interface ResultColumn {
  readonly name: string
  readonly table?: string | undefined
  readonly type: string
}

export interface QueryResult {
  readonly columns: readonly ResultColumn[]
  readonly rows: readonly (readonly unknown[])[]
}

/** What masking did, for the audit record (names only, never values). */
export interface MaskingReport {
  /** `column → rule` for every column a `maskColumns` glob covered. */
  readonly maskedColumns: Readonly<Record<string, MaskRule>>
  readonly detectors: readonly DetectorName[]
  /** Cells changed by a detector. */
  readonly redactedCells: number
}

export interface MaskedResult {
  readonly columns: readonly ResultColumn[]
  readonly rows: unknown[][]
  readonly report: MaskingReport
}

export type ResultMasker = (result: QueryResult) => MaskedResult

const STRENGTH: Readonly<Record<MaskRule, number>> = { redact: 3, hash: 2, last4: 1 }

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
}

function applyRule(rule: MaskRule, value: unknown): unknown {
  if (value === null || value === undefined) return value
  if (rule === 'redact') return '[redacted]'
  const plain = text(value)
  if (rule === 'hash') return `sha256:${createHash('sha256').update(plain).digest('hex').slice(0, 12)}`
  // Short values would be shown whole; show nothing of them.
  return plain.length > 4 ? `••••${plain.slice(-4)}` : '••••'
}

/**
 * Builds a pure function that masks a query result as a grant says: columns covered by a
 * `maskColumns` glob get their rule (the strongest when several match), and every other string
 * cell (also inside arrays) goes through the enabled value detectors.
 */
export function createResultMasker(options: Pick<SqlConstraints, 'maskColumns' | 'detectors'>): ResultMasker {
  const globs: [ColumnGlob, MaskRule][] = Object.entries(options.maskColumns).map(([pattern, rule]) => [compileColumnGlob(pattern), rule])
  const detectors = options.detectors
  const anyDetector = detectors.awsKeys || detectors.emails || detectors.cardNumbers

  return function maskResult(result) {
    const rules = result.columns.map((column) => {
      let chosen: MaskRule | undefined
      for (const [glob, rule] of globs) {
        if (matchColumnGlob(glob, column) && (chosen === undefined || STRENGTH[rule] > STRENGTH[chosen])) chosen = rule
      }
      return chosen
    })
    const maskedColumns: Record<string, MaskRule> = {}
    result.columns.forEach((column, i) => {
      const rule = rules[i]
      if (rule !== undefined) maskedColumns[column.table ? `${column.table}.${column.name}` : column.name] = rule
    })
    const fired = new Set<DetectorName>()
    let redactedCells = 0
    const scrub = (value: unknown): unknown => {
      if (typeof value === 'string') {
        const found = redactSensitiveText(value, detectors)
        if (found.fired.length === 0) return value
        for (const name of found.fired) fired.add(name)
        redactedCells += 1
        return found.text
      }
      if (Array.isArray(value)) return value.map(scrub)
      return value
    }
    const rows = result.rows.map((row) =>
      row.map((cell, i) => {
        const rule = rules[i]
        if (rule !== undefined) return applyRule(rule, cell)
        return anyDetector ? scrub(cell) : cell
      }),
    )
    return { columns: result.columns, rows, report: { maskedColumns, detectors: [...fired].sort(), redactedCells } }
  }
}
