/** A JSON object as a parser returns it; inspected through guards, never cast. */
export type Json = Record<string, unknown>

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Calls `visit` for every object in a parse tree, depth first, with the key it sits under.
 * Iterative, so a deeply nested statement cannot overflow the stack.
 */
export function walkTree(root: unknown, visit: (node: Json, key: string) => void): void {
  const stack: [unknown, string][] = [[root, '']]
  while (stack.length > 0) {
    const next = stack.pop()
    if (next === undefined) break
    const [value, key] = next
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, key])
    } else if (isObject(value)) {
      visit(value, key)
      for (const [childKey, child] of Object.entries(value)) {
        if (typeof child === 'object' && child !== null) stack.push([child, childKey])
      }
    }
  }
}

/** The strings of a list such as `[{ String: { sval: 'pg_catalog' } }, { String: { sval: 'now' } }]`. */
export function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) return []
  const out: string[] = []
  for (const item of value) {
    if (!isObject(item)) continue
    const inner = item['String']
    if (isObject(inner) && typeof inner['sval'] === 'string') out.push(inner['sval'])
  }
  return out
}
