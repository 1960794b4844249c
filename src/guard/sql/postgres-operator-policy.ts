/**
 * Which PostgreSQL operators and type names a read-only statement may use. An operator is a
 * function call by another name, and a cast or column definition to a user-defined type runs the
 * type's input function or a domain's CHECK expressions, so both lean on allowlists of built-ins,
 * like functions do. A name qualified with `pg_catalog` is always built-in (only superusers can
 * add objects there); anything else qualified is user-defined.
 */

/** Built-in operator names (arithmetic, comparison, text, pattern, JSON, array, range, network, geometric, text search). */
const BUILT_IN_OPERATORS = new Set(
  `+ - * / % ^ |/ ||/ @ & | # ~ << >> = <> != < > <= >=
  || ~~ !~~ ~~* !~~* !~ ~* !~* ^@
  -> ->> #> #>> @> <@ ? ?| ?& #- @? @@ @@@
  && &< &> -|- <<= >>= <-> <<| |>> &<| |&> <^ >^ ~= ?# ?- ?-| ?|| ## @-@
  *= *<> *< *<= *> *>=`.split(/\s+/).filter((s) => s !== ''),
)

/** Keyword forms the parser stores as operator names (BETWEEN and its variants). */
const KEYWORD_OPERATORS = new Set(['between', 'not between', 'between symmetric', 'not between symmetric'])

/** Built-in type names as the parser leaves them unqualified (SQL-standard spellings come back as `pg_catalog.*`). */
const BUILT_IN_TYPES = new Set(
  `int2 int4 int8 smallint integer bigint int float4 float8 real numeric decimal money
  text varchar char bpchar name bytea bool boolean date time timetz timestamp timestamptz interval
  json jsonb jsonpath uuid xml inet cidr macaddr macaddr8 bit varbit tsvector tsquery
  point line lseg box path polygon circle
  int4range int8range numrange tsrange tstzrange daterange
  int4multirange int8multirange nummultirange tsmultirange tstzmultirange datemultirange
  oid regclass regtype regproc regprocedure regoper regoperator regnamespace regrole regconfig
  regdictionary regcollation xid xid8 cid tid pg_lsn record`.split(/\s+/).filter((s) => s !== ''),
)

export interface NameVerdict {
  readonly allowed: boolean
  readonly reason?: string
}

/** Decides on one operator, given its name parts as written (`OPERATOR(schema.op)` has two). */
export function judgePostgresOperator(nameParts: readonly string[]): NameVerdict {
  const parts = nameParts.map((p) => p.toLowerCase())
  const shown = parts.join('.')
  if (parts.length > 1) {
    return parts.length === 2 && parts[0] === 'pg_catalog' ? { allowed: true } : { allowed: false, reason: `operator ${shown} is user-defined and may write` }
  }
  const name = parts[0] ?? ''
  if (BUILT_IN_OPERATORS.has(name) || KEYWORD_OPERATORS.has(name)) return { allowed: true }
  return { allowed: false, reason: `operator ${shown} is not a built-in operator and may call user-defined code` }
}

/** Decides on one type name used in a cast or column definition. */
export function judgePostgresType(nameParts: readonly string[]): NameVerdict {
  const parts = nameParts.map((p) => p.toLowerCase())
  const shown = parts.join('.')
  if (parts.length > 1) {
    return parts.length === 2 && parts[0] === 'pg_catalog' ? { allowed: true } : { allowed: false, reason: `type ${shown} is user-defined and may run code` }
  }
  if (BUILT_IN_TYPES.has(parts[0] ?? '')) return { allowed: true }
  return { allowed: false, reason: `type ${shown} is not a built-in type and may run code` }
}
