import { isDecimalMetadata } from './pg-values.js'
import { RdsDataError, type ArrayValue, type ColumnMetadata, type FieldValue, type StatementResult } from './rds-data-types.js'

export interface ResponseOptions {
  readonly includeResultMetadata: boolean
  readonly formatRecordsAs: 'NONE' | 'JSON'
  readonly decimalReturnType: 'STRING' | 'DOUBLE_OR_LONG'
  readonly longReturnType: 'STRING' | 'LONG'
  /** The service's response size limit (1 MiB for records). */
  readonly maxResponseBytes: number
}

export const RESPONSE_TOO_LARGE = 'Database returned more than the allowed response size limit'

/**
 * Builds an ExecuteStatement response body as the service shapes it.
 * @throws RdsDataError BadRequestException when the body would exceed the size limit.
 */
export function formatExecuteResponse(result: StatementResult, options: ResponseOptions): string {
  const body: Record<string, unknown> = { numberOfRecordsUpdated: result.rowsAffected }
  const columns = result.columns
  if (columns === undefined) {
    body.generatedFields = result.generatedFields
  } else {
    const rows = result.rows.map((row) => row.map((field, i) => applyReturnTypes(field, columns[i], options)))
    if (options.formatRecordsAs === 'JSON') body.formattedRecords = JSON.stringify(rows.map((row) => toJsonRecord(row, columns)))
    else body.records = rows
    // The service leaves columnMetadata blank when records are formatted as JSON.
    if (options.includeResultMetadata && options.formatRecordsAs !== 'JSON') body.columnMetadata = columns
  }
  const text = JSON.stringify(body)
  if (Buffer.byteLength(text) > options.maxResponseBytes) throw new RdsDataError('BadRequestException', RESPONSE_TOO_LARGE)
  return text
}

function applyReturnTypes(field: FieldValue, column: ColumnMetadata | undefined, options: ResponseOptions): FieldValue {
  if (options.longReturnType === 'STRING' && 'longValue' in field) return { stringValue: String(field.longValue) }
  if (options.decimalReturnType === 'DOUBLE_OR_LONG' && 'stringValue' in field && column !== undefined && isDecimalMetadata(column)) {
    const n = Number(field.stringValue)
    return Number.isInteger(n) && !field.stringValue.includes('.') ? { longValue: n } : { doubleValue: n }
  }
  return field
}

function toJsonRecord(row: readonly FieldValue[], columns: readonly ColumnMetadata[]): Record<string, unknown> {
  const record: Record<string, unknown> = {}
  row.forEach((field, i) => {
    record[columns[i]?.name ?? `column${i + 1}`] = fieldToJson(field)
  })
  return record
}

function fieldToJson(field: FieldValue): unknown {
  if ('isNull' in field) return null
  if ('booleanValue' in field) return field.booleanValue
  if ('longValue' in field) return field.longValue
  if ('doubleValue' in field) return field.doubleValue
  if ('stringValue' in field) return field.stringValue
  if ('blobValue' in field) return field.blobValue
  return arrayToJson(field.arrayValue)
}

function arrayToJson(value: ArrayValue): unknown[] {
  if ('arrayValues' in value) return value.arrayValues.map(arrayToJson)
  if ('booleanValues' in value) return [...value.booleanValues]
  if ('longValues' in value) return [...value.longValues]
  if ('doubleValues' in value) return [...value.doubleValues]
  return [...value.stringValues]
}
