/** Small readers for Kubernetes JSON (already plain data); they check types instead of casting. */
export type Json = Record<string, unknown>

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function rec(value: unknown): Json {
  return isRecord(value) ? value : {}
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

export function at(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) current = rec(current)[key]
  return current
}

/** Drops undefined values and empty objects/arrays so summaries stay short. */
export function compact(object: Json): Json {
  const out: Json = {}
  for (const [k, v] of Object.entries(object)) {
    if (v === undefined) continue
    if (Array.isArray(v) && v.length === 0) continue
    if (isRecord(v) && Object.keys(v).length === 0) continue
    out[k] = v
  }
  return out
}

/** Plain JSON from a client-node model object (wire field names; dates as ISO strings). */
export function toPlain(value: unknown): unknown {
  if (value === undefined) return undefined
  // Kubernetes writes RFC 3339 times without fractional seconds; client-node's Dates would add ".000".
  return JSON.parse(JSON.stringify(value, function wireTime(this: unknown, key: string, serialized: unknown) {
    const original = isRecord(this) ? this[key] : undefined
    return original instanceof Date ? original.toISOString().replace(/\.000Z$/, 'Z') : serialized
  }))
}
