import { createHash } from 'node:crypto'

/** JSON with object keys in code-unit order at every level, so equal arguments always serialise alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item: unknown) => canonicalJson(item === undefined ? null : item)).join(',')}]`
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const keys = Object.keys(value).sort()
    const parts: string[] = []
    for (const key of keys) {
      const child: unknown = Reflect.get(value, key)
      if (child === undefined || typeof child === 'function' || typeof child === 'symbol') continue
      parts.push(`${JSON.stringify(key)}:${canonicalJson(child)}`)
    }
    return `{${parts.join(',')}}`
  }
  if (typeof value === 'bigint') return JSON.stringify(value.toString())
  return JSON.stringify(value) ?? 'null'
}

/** SHA-256 (hex) of the canonical JSON of a call's validated arguments: what intent and outcome records carry. */
export function hashArgs(args: unknown): string {
  return createHash('sha256').update(canonicalJson(args), 'utf8').digest('hex')
}
