import type { ArrayValue, ColumnMetadata, Field } from '@aws-sdk/client-rds-data'
import { UpstreamError } from '../../src/errors.js'

export type CellValue = string | number | boolean | null | CellValue[]

function arrayToValue(array: ArrayValue): CellValue[] {
  if (array.booleanValues !== undefined) return [...array.booleanValues]
  if (array.longValues !== undefined) return [...array.longValues]
  if (array.doubleValues !== undefined) return [...array.doubleValues]
  if (array.stringValues !== undefined) return [...array.stringValues]
  if (array.arrayValues !== undefined) return array.arrayValues.map((inner) => (inner === null ? null : arrayToValue(inner)))
  throw new UpstreamError('AWS_ERROR', 'RDS Data API returned an array value of an unknown kind')
}

/**
 * One Data API `Field` as a JSON value: numbers and booleans as such, decimals, dates and
 * timestamps as the strings the service sends, blobs as base64. Unknown members fail closed.
 */
export function fieldToValue(value: Field): CellValue {
  if (value.isNull === true) return null
  if (value.booleanValue !== undefined) return value.booleanValue
  if (value.longValue !== undefined) return value.longValue
  if (value.doubleValue !== undefined) return value.doubleValue
  if (value.stringValue !== undefined) return value.stringValue
  if (value.blobValue !== undefined) return Buffer.from(value.blobValue).toString('base64')
  if (value.arrayValue !== undefined) return arrayToValue(value.arrayValue)
  throw new UpstreamError('AWS_ERROR', 'RDS Data API returned a field of an unknown kind')
}

export interface ResultColumnInfo {
  readonly name: string
  readonly type: string
  readonly table?: string
}

export function columnInfo(meta: ColumnMetadata, index: number): ResultColumnInfo {
  const name = meta.label !== undefined && meta.label !== '' ? meta.label : meta.name ?? `column${index + 1}`
  const table = meta.tableName !== undefined && meta.tableName !== '' ? meta.tableName : undefined
  return { name, type: meta.typeName ?? 'unknown', ...(table === undefined ? {} : { table }) }
}

/** A caller's parameter value as a Data API `Field`, always bound, never spliced into SQL text. */
export function valueToField(value: string | number | boolean | null): Field {
  if (value === null) return { isNull: true }
  if (typeof value === 'boolean') return { booleanValue: value }
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { longValue: value } : { doubleValue: value }
  return { stringValue: value }
}
