import type { FieldPacket } from 'mysql2'
import type { ColumnMetadata, FieldValue } from './rds-data-types.js'

type Kind = 'long' | 'double' | 'decimal' | 'text' | 'bit' | 'json' | 'binary-or-text'

interface MysqlType {
  readonly name: string
  readonly kind: Kind
  readonly jdbc: number
}

/** MySQL protocol column type codes. */
const TYPES: Readonly<Record<number, MysqlType>> = {
  0: { name: 'DECIMAL', kind: 'decimal', jdbc: 3 },
  1: { name: 'TINYINT', kind: 'long', jdbc: -6 },
  2: { name: 'SMALLINT', kind: 'long', jdbc: 5 },
  3: { name: 'INT', kind: 'long', jdbc: 4 },
  4: { name: 'FLOAT', kind: 'double', jdbc: 7 },
  5: { name: 'DOUBLE', kind: 'double', jdbc: 8 },
  7: { name: 'TIMESTAMP', kind: 'text', jdbc: 93 },
  8: { name: 'BIGINT', kind: 'long', jdbc: -5 },
  9: { name: 'MEDIUMINT', kind: 'long', jdbc: 4 },
  10: { name: 'DATE', kind: 'text', jdbc: 91 },
  11: { name: 'TIME', kind: 'text', jdbc: 92 },
  12: { name: 'DATETIME', kind: 'text', jdbc: 93 },
  13: { name: 'YEAR', kind: 'long', jdbc: 91 },
  15: { name: 'VARCHAR', kind: 'binary-or-text', jdbc: 12 },
  16: { name: 'BIT', kind: 'bit', jdbc: -7 },
  245: { name: 'JSON', kind: 'json', jdbc: -1 },
  246: { name: 'DECIMAL', kind: 'decimal', jdbc: 3 },
  249: { name: 'TINYBLOB', kind: 'binary-or-text', jdbc: -3 },
  250: { name: 'MEDIUMBLOB', kind: 'binary-or-text', jdbc: -4 },
  251: { name: 'LONGBLOB', kind: 'binary-or-text', jdbc: -4 },
  252: { name: 'BLOB', kind: 'binary-or-text', jdbc: -4 },
  253: { name: 'VARCHAR', kind: 'binary-or-text', jdbc: 12 },
  254: { name: 'CHAR', kind: 'binary-or-text', jdbc: 1 },
}

const UNKNOWN: MysqlType = { name: 'UNKNOWN', kind: 'binary-or-text', jdbc: 1111 }
const BINARY_CHARSET = 63
const NOT_NULL_FLAG = 1
const UNSIGNED_FLAG = 32
const AUTO_INCREMENT_FLAG = 512

function typeOf(field: FieldPacket): MysqlType {
  return TYPES[field.columnType ?? field.type ?? -1] ?? UNKNOWN
}

function hasFlag(field: FieldPacket, flag: number, name: string): boolean {
  return Array.isArray(field.flags) ? field.flags.includes(name) : (field.flags & flag) !== 0
}

/** Converts a mysql2 value (dateStrings, bigNumberStrings, jsonStrings) to the Data API Field. */
export function mysqlValueToField(value: unknown, field: FieldPacket): FieldValue {
  if (value === null || value === undefined) return { isNull: true }
  const type = typeOf(field)
  if (Buffer.isBuffer(value)) {
    if (type.kind === 'bit' && (field.columnLength ?? 1) === 1) return { booleanValue: value.some((b) => b !== 0) }
    if (field.characterSet === BINARY_CHARSET || type.kind === 'bit') return { blobValue: value.toString('base64') }
    return { stringValue: value.toString('utf8') }
  }
  switch (type.kind) {
    case 'long':
      return { longValue: Number(value) }
    case 'double':
      return { doubleValue: Number(value) }
    default:
      return { stringValue: typeof value === 'string' ? value : JSON.stringify(value) }
  }
}

/** Column metadata in the service's shape for a MySQL/MariaDB result column. */
export function mysqlColumnMetadata(field: FieldPacket): ColumnMetadata {
  const type = typeOf(field)
  const binary = field.characterSet === BINARY_CHARSET
  const numeric = type.kind === 'long' || type.kind === 'double' || type.kind === 'decimal'
  return {
    name: field.name,
    type: binary && type.kind === 'binary-or-text' ? -3 : type.jdbc,
    typeName: `${type.name}${numeric && hasFlag(field, UNSIGNED_FLAG, 'UNSIGNED') ? ' UNSIGNED' : ''}`,
    label: field.name,
    schemaName: field.schema ?? field.db ?? '',
    tableName: field.orgTable,
    isAutoIncrement: hasFlag(field, AUTO_INCREMENT_FLAG, 'AUTO_INCREMENT'),
    isSigned: numeric && !hasFlag(field, UNSIGNED_FLAG, 'UNSIGNED'),
    isCurrency: false,
    isCaseSensitive: type.kind === 'binary-or-text' && binary,
    nullable: hasFlag(field, NOT_NULL_FLAG, 'NOT_NULL') ? 0 : 1,
    precision: field.columnLength ?? 0,
    scale: field.decimals,
    arrayBaseColumnType: 0,
  }
}
