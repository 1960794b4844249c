import type { Field, SqlParameter } from '@aws-sdk/client-rds-data'

export const PG_TYPES_SQL = `SELECT 1::int4, 9007199254740991::int8, 1.5::float8, 12.345::numeric(10,3), 'héllo'::text, true,
  '\\x0102ff'::bytea, ARRAY[1,2,3]::int4[], ARRAY['a','b c',NULL]::text[], ARRAY[[1,2],[3,4]]::int8[], NULL::text,
  '2026-01-15 12:34:56.789'::timestamp, '2026-01-15 12:34:56+02'::timestamptz, '2026-01-15'::date, '12:34:56'::time,
  '{"a": 1}'::jsonb, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, ARRAY[true,false]::bool[], ARRAY[1.5,2.5]::float8[]`

export const PG_TYPES_EXPECTED: Field[] = [
  { longValue: 1 },
  { longValue: 9007199254740991 },
  { doubleValue: 1.5 },
  { stringValue: '12.345' },
  { stringValue: 'héllo' },
  { booleanValue: true },
  { blobValue: new Uint8Array([1, 2, 255]) },
  { arrayValue: { longValues: [1, 2, 3] } },
  { arrayValue: { stringValues: ['a', 'b c', ''] } },
  { arrayValue: { arrayValues: [{ longValues: [1, 2] }, { longValues: [3, 4] }] } },
  { isNull: true },
  { stringValue: '2026-01-15 12:34:56.789' },
  { stringValue: '2026-01-15 10:34:56' },
  { stringValue: '2026-01-15' },
  { stringValue: '12:34:56' },
  { stringValue: '{"a": 1}' },
  { stringValue: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
  { arrayValue: { booleanValues: [true, false] } },
  { arrayValue: { doubleValues: [1.5, 2.5] } },
]

export const PG_PARAMS_SQL = `SELECT :l, :d, :b, :s, :blob, :n, :dec, pg_typeof(:dec)::text, :ts, pg_typeof(:ts)::text, :date, :time,
  :uuid, pg_typeof(:uuid)::text, :json, pg_typeof(:json)::text, :l + 1`

export const PG_PARAMS: SqlParameter[] = [
  { name: 'l', value: { longValue: 42 } },
  { name: 'd', value: { doubleValue: 2.25 } },
  { name: 'b', value: { booleanValue: false } },
  { name: 's', value: { stringValue: "it's" } },
  { name: 'blob', value: { blobValue: new Uint8Array([0, 1, 2]) } },
  { name: 'n', value: { isNull: true } },
  { name: 'dec', value: { stringValue: '1234.5678' }, typeHint: 'DECIMAL' },
  { name: 'ts', value: { stringValue: '2026-02-03 04:05:06' }, typeHint: 'TIMESTAMP' },
  { name: 'date', value: { stringValue: '2026-02-03' }, typeHint: 'DATE' },
  { name: 'time', value: { stringValue: '04:05:06' }, typeHint: 'TIME' },
  { name: 'uuid', value: { stringValue: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' }, typeHint: 'UUID' },
  { name: 'json', value: { stringValue: '{"k":[1,2]}' }, typeHint: 'JSON' },
]

export const PG_PARAMS_EXPECTED: Field[] = [
  { longValue: 42 },
  { doubleValue: 2.25 },
  { booleanValue: false },
  { stringValue: "it's" },
  { blobValue: new Uint8Array([0, 1, 2]) },
  { isNull: true },
  { stringValue: '1234.5678' },
  { stringValue: 'numeric' },
  { stringValue: '2026-02-03 04:05:06' },
  { stringValue: 'timestamp without time zone' },
  { stringValue: '2026-02-03' },
  { stringValue: '04:05:06' },
  { stringValue: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
  { stringValue: 'uuid' },
  { stringValue: '{"k":[1,2]}' },
  { stringValue: 'json' },
  { longValue: 43 },
]
