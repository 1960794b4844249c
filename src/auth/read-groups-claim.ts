import { z } from 'zod'

const groupsSchema = z.union([z.string(), z.array(z.string())])

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Reads the groups claim named by `path`: first as an exact claim name (so URL-like names such
 * as `https://example.com/groups` work), then as a dot path (`realm_access.roles`).
 * Returns `[]` when the claim is absent, `undefined` when it is present but not a string or an
 * array of strings (the caller refuses the token).
 */
export function readGroupsClaim(claims: Readonly<Record<string, unknown>>, path: string): readonly string[] | undefined {
  let value: unknown
  if (Object.hasOwn(claims, path)) {
    value = claims[path]
  } else {
    let node: unknown = claims
    for (const segment of path.split('.')) {
      if (!isRecord(node) || !Object.hasOwn(node, segment)) return []
      node = node[segment]
    }
    value = node
  }
  if (value === undefined) return []
  const parsed = groupsSchema.safeParse(value)
  if (!parsed.success) return undefined
  return typeof parsed.data === 'string' ? [parsed.data] : [...new Set(parsed.data)]
}
