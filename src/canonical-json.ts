/** JSON with object keys in code-unit order at every level, so equal values always serialise alike (argument hashes, the policy fingerprint). */
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
