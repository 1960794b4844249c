import type { ArrayValue, ColumnMetadata, FieldValue } from './rds-data-types.js'

type Kind = 'long' | 'double' | 'decimal' | 'bool' | 'bytea' | 'text' | 'timestamp' | 'timestamptz' | 'json'

interface PgType {
  readonly name: string
  readonly kind: Kind
  /** java.sql.Types code, as the service's JDBC-backed metadata reports. */
  readonly jdbc: number
  readonly signed?: boolean
}

const SCALARS: Readonly<Record<number, PgType>> = {
  16: { name: 'bool', kind: 'bool', jdbc: -7 },
  17: { name: 'bytea', kind: 'bytea', jdbc: -2 },
  18: { name: 'char', kind: 'text', jdbc: 1 },
  19: { name: 'name', kind: 'text', jdbc: 12 },
  20: { name: 'int8', kind: 'long', jdbc: -5, signed: true },
  21: { name: 'int2', kind: 'long', jdbc: 5, signed: true },
  23: { name: 'int4', kind: 'long', jdbc: 4, signed: true },
  25: { name: 'text', kind: 'text', jdbc: 12 },
  26: { name: 'oid', kind: 'long', jdbc: -5 },
  114: { name: 'json', kind: 'json', jdbc: 1111 },
  700: { name: 'float4', kind: 'double', jdbc: 7, signed: true },
  701: { name: 'float8', kind: 'double', jdbc: 8, signed: true },
  1042: { name: 'bpchar', kind: 'text', jdbc: 1 },
  1043: { name: 'varchar', kind: 'text', jdbc: 12 },
  1082: { name: 'date', kind: 'text', jdbc: 91 },
  1083: { name: 'time', kind: 'text', jdbc: 92 },
  1114: { name: 'timestamp', kind: 'timestamp', jdbc: 93 },
  1184: { name: 'timestamptz', kind: 'timestamptz', jdbc: 93 },
  1700: { name: 'numeric', kind: 'decimal', jdbc: 2, signed: true },
  2950: { name: 'uuid', kind: 'text', jdbc: 1111 },
  3802: { name: 'jsonb', kind: 'json', jdbc: 1111 },
}

/** Array type OID → element type OID. */
const ARRAYS: Readonly<Record<number, number>> = {
  1000: 16, 1001: 17, 1002: 18, 1005: 21, 1007: 23, 1009: 25, 1014: 1042, 1015: 1043, 1016: 20, 1021: 700,
  1022: 701, 1115: 1114, 1182: 1082, 1185: 1184, 1231: 1700, 2951: 2950, 199: 114, 3807: 3802,
}

/** Every OID whose text form this module interprets; drivers must hand these over unparsed. */
export const PG_KNOWN_OIDS: readonly number[] = [...Object.keys(SCALARS), ...Object.keys(ARRAYS)].map(Number)

const UNKNOWN: PgType = { name: 'unknown', kind: 'text', jdbc: 1111 }

/** Converts one value in PostgreSQL text format to the Data API Field the service would return. */
export function pgTextToField(text: string | null, oid: number): FieldValue {
  if (text === null) return { isNull: true }
  const element = ARRAYS[oid]
  if (element !== undefined) return { arrayValue: toArrayValue(parsePgArray(text), SCALARS[element] ?? UNKNOWN) }
  const type = SCALARS[oid] ?? UNKNOWN
  switch (type.kind) {
    case 'long':
      return { longValue: Number(text) }
    case 'double': {
      const n = Number(text)
      return Number.isFinite(n) ? { doubleValue: n } : { stringValue: text }
    }
    case 'bool':
      return { booleanValue: text === 't' }
    case 'bytea':
      return { blobValue: Buffer.from(text.startsWith('\\x') ? text.slice(2) : text, 'hex').toString('base64') }
    case 'timestamp':
      return { stringValue: text }
    case 'timestamptz':
      // Sessions run in UTC; the service reports the instant without an offset.
      return { stringValue: text.replace(/[+-]\d{2}(:\d{2})?$/, '') }
    case 'decimal':
    case 'json':
    case 'text':
      return { stringValue: text }
  }
}

function toArrayValue(items: readonly PgArrayItem[], element: PgType): ArrayValue {
  if (items.some((x) => Array.isArray(x))) {
    return { arrayValues: items.map((x) => toArrayValue(Array.isArray(x) ? x : [x], element)) }
  }
  const scalars = items.filter((x): x is string | null => !Array.isArray(x))
  switch (element.kind) {
    case 'long':
      return { longValues: scalars.map((x) => (x === null ? 0 : Number(x))) }
    case 'double':
      return { doubleValues: scalars.map((x) => (x === null ? 0 : Number(x))) }
    case 'bool':
      return { booleanValues: scalars.map((x) => x === 't') }
    default:
      return { stringValues: scalars.map((x) => x ?? '') }
  }
}

type PgArrayItem = string | null | PgArrayItem[]

/** Parses PostgreSQL's array literal text (`{1,2,"a b",NULL,{3}}`). */
export function parsePgArray(text: string): PgArrayItem[] {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0
  const parse = (): PgArrayItem[] => {
    const items: PgArrayItem[] = []
    i++ // '{'
    while (i < text.length) {
      const c = text[i]
      if (c === '}') {
        i++
        return items
      }
      if (c === ',') {
        i++
      } else if (c === '{') {
        items.push(parse())
      } else if (c === '"') {
        let value = ''
        i++
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++
          value += text[i] ?? ''
          i++
        }
        i++
        items.push(value)
      } else {
        let end = i
        while (end < text.length && text[end] !== ',' && text[end] !== '}') end++
        const raw = text.slice(i, end)
        items.push(raw === 'NULL' ? null : raw)
        i = end
      }
    }
    return items
  }
  return parse()
}

/** Column metadata in the service's shape for a PostgreSQL result column. */
export function pgColumnMetadata(name: string, oid: number): ColumnMetadata {
  const element = ARRAYS[oid]
  const type = element === undefined ? (SCALARS[oid] ?? UNKNOWN) : { ...(SCALARS[element] ?? UNKNOWN), jdbc: 2003 }
  const typeName = element === undefined ? type.name : `_${type.name}`
  return {
    name,
    type: type.jdbc,
    typeName,
    label: name,
    schemaName: '',
    tableName: '',
    isAutoIncrement: false,
    isSigned: type.signed === true,
    isCurrency: false,
    isCaseSensitive: type.kind === 'text' || type.kind === 'json',
    nullable: 2,
    precision: 0,
    scale: 0,
    arrayBaseColumnType: element === undefined ? 0 : (SCALARS[element] ?? UNKNOWN).jdbc,
  }
}

/** Whether a column's values are DECIMAL (so `decimalReturnType` applies). */
export function isDecimalMetadata(column: ColumnMetadata): boolean {
  return column.type === 2 || column.type === 3
}
