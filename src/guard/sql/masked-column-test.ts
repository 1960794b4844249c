import { GuardError } from '../../errors.js'
import { compileColumnGlob } from '../masking/match-column-glob.js'

/** True when a column name is covered by one of the grant's masked-column globs. */
export type MaskedColumnTest = (column: string) => boolean

/**
 * Builds the test from `maskColumns` globs (`column` or `table.column`). Only the column part
 * counts: PostgreSQL results carry no table name, and a statement can reach a column through any
 * alias, so a masked name is masked whatever table it belongs to. Undefined when nothing is masked.
 */
export function createMaskedColumnTest(globs: readonly string[]): MaskedColumnTest | undefined {
  if (globs.length === 0) return undefined
  const columns = globs.map((glob) => compileColumnGlob(glob).column)
  return (column) => columns.some((pattern) => pattern.test(column))
}

/** The refusal for a masked column used other than by selecting it as is. */
export function maskedColumnUsed(column: string): GuardError {
  return new GuardError(
    'SQL_MASKED_COLUMN',
    `column ${column} is masked for you: it may only be selected as is (no alias, expression, filter, join or ordering on it)`,
  )
}

/** The refusal for something that could carry masked columns out unmasked. */
export function maskingBypassed(what: string): GuardError {
  return new GuardError('SQL_MASKED_COLUMN', `some columns are masked for you, so the statement may not use ${what}`)
}

/** The refusal for an EXPLAIN that names a masked column (a plan's estimates and counts can reveal values). */
export function maskedColumnExplained(column: string): GuardError {
  return new GuardError(
    'SQL_MASKED_COLUMN',
    `column ${column} is masked for you, and an explained statement may not name it: a plan's row estimates can reveal its values; explain the statement without it (* is fine)`,
  )
}
