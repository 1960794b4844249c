export interface RedactOptions {
  /**
   * Keys whose values are redacted: globs (`*` = any run of characters), matched
   * case-insensitively and ignoring `-` and `_`, so `*apikey*` also covers `api_key` and `X-Api-Key`.
   */
  readonly redactKeys: readonly string[]
  /** Longer strings keep this many characters plus a truncation marker. */
  readonly maxStringLength: number
  /** Nesting deeper than this is replaced by a marker. */
  readonly maxDepth?: number
  /** Arrays keep this many items plus a marker for the rest. */
  readonly maxArrayItems?: number
}

export const REDACTED = '[redacted]'

/** SQL parameter values (`parameters`) and anything that looks like a credential. */
export const defaultRedactOptions: RedactOptions = {
  redactKeys: [
    'parameters',
    '*password*',
    '*passwd*',
    '*passphrase*',
    '*secret*',
    '*token*',
    '*credential*',
    '*apikey*',
    '*privatekey*',
    '*sessionid*',
    '*connectionstring*',
    'dsn',
    'authorization',
    'cookie',
    'setcookie',
  ],
  maxStringLength: 2048,
  maxDepth: 8,
  maxArrayItems: 100,
}

// A JWT (or JWS) anywhere in a string: a bearer credential that slipped into a free-text field.
// Anchored at a token boundary so "eyJeyJeyJ…" cannot make the scan quadratic.
const JWT_PATTERN = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g

/**
 * Copies tool arguments into a shape safe for the audit trail: values under secret-looking keys
 * become "[redacted]" (object keys and SQL parameter `name`s are kept so the record still says
 * what was bound), embedded JWTs are replaced, long strings and arrays are truncated, and cycles,
 * binary data and non-JSON values get markers. Pure: never mutates `args`.
 */
export function redactArgs(args: unknown, options: RedactOptions = defaultRedactOptions): Record<string, unknown> {
  const matchers = compiledMatchers(options.redactKeys)
  const limits = {
    maxStringLength: options.maxStringLength,
    maxDepth: options.maxDepth ?? defaultRedactOptions.maxDepth ?? 8,
    maxArrayItems: options.maxArrayItems ?? defaultRedactOptions.maxArrayItems ?? 100,
  }
  const isSecretKey = (key: string): boolean => {
    const normalized = normalizeKey(key)
    return matchers.some((re) => re.test(normalized))
  }

  function visit(value: unknown, depth: number, ancestors: readonly object[], redacting: boolean): unknown {
    if (value === null || typeof value === 'boolean') return redacting ? REDACTED : value
    if (typeof value === 'number') return redacting ? REDACTED : Number.isFinite(value) ? value : String(value)
    if (typeof value === 'string') return redacting ? REDACTED : truncate(value.replace(JWT_PATTERN, '[redacted-jwt]'), limits.maxStringLength)
    if (typeof value === 'bigint') return redacting ? REDACTED : value.toString()
    if (typeof value !== 'object') return redacting ? REDACTED : `[${typeof value}]`
    if (ancestors.includes(value)) return '[circular]'
    if (value instanceof Date) return redacting ? REDACTED : Number.isNaN(value.getTime()) ? '[invalid date]' : value.toISOString()
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[binary ${value.byteLength} bytes]`
    if (depth >= limits.maxDepth) return '[depth limit]'
    const inner = [...ancestors, value]
    if (Array.isArray(value)) {
      const items: unknown[] = value.slice(0, limits.maxArrayItems).map((item: unknown) => visit(item, depth + 1, inner, redacting))
      if (value.length > limits.maxArrayItems) items.push(`[${value.length - limits.maxArrayItems} more items]`)
      return items
    }
    return Object.fromEntries(
      Object.entries(value).map(([key, child]): [string, unknown] => {
        // Inside a redacted subtree, a parameter's `name` identifies it and is kept.
        if (redacting && key === 'name' && typeof child === 'string') return [key, truncate(child, limits.maxStringLength)]
        return [key, visit(child, depth + 1, inner, redacting || isSecretKey(key))]
      }),
    )
  }

  if (args === undefined || args === null) return {}
  const result = visit(args, 0, [], false)
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) return { ...result }
  return { value: result }
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '')
}

// Options are built once per gateway; compiling their globs once keeps redaction off the hot path.
const compiled = new WeakMap<readonly string[], readonly RegExp[]>()
function compiledMatchers(keys: readonly string[]): readonly RegExp[] {
  let matchers = compiled.get(keys)
  if (matchers === undefined) {
    matchers = keys.map(globToRegExp)
    compiled.set(keys, matchers)
  }
  return matchers
}

function globToRegExp(glob: string): RegExp {
  const source = normalizeKey(glob)
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${source}$`, 's')
}

function truncate(value: string, max: number): string {
  if (value.length <= max) return value
  let end = max
  // Do not cut a surrogate pair in half.
  const code = value.charCodeAt(end - 1)
  if (end > 0 && code >= 0xd800 && code <= 0xdbff) end -= 1
  return `${value.slice(0, end)}…[truncated ${value.length - end} chars]`
}
