import type { z } from 'zod'

/**
 * Messages for zod's built-in checks, written for people editing a policy file. Messages set on a
 * schema (regexes, refinements) take precedence over this map.
 */
export const policyErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required'
      return `expected ${describeExpected(issue.expected)}, got ${describeValue(issue.input)}`
    case 'invalid_value': {
      const expected = `expected ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}`
      return issue.input === undefined ? `required, ${expected}` : expected
    }
    case 'invalid_union': {
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : undefined
      if (options !== undefined) return `expected ${options.map((v: unknown) => JSON.stringify(v)).join(' | ')}`
      return undefined
    }
    case 'too_small':
      return bound('at least', 'more than', issue.origin, issue.minimum, issue.inclusive)
    case 'too_big':
      return bound('at most', 'less than', issue.origin, issue.maximum, issue.inclusive)
    case 'invalid_format':
      if (issue.format === 'datetime') return 'expected an ISO 8601 date-time with an offset, such as "2026-12-31T23:59:59Z"'
      return undefined
    case 'invalid_key': {
      const inner = issue.issues.map((i) => i.message).filter((m) => m !== '')
      return inner.length === 0 ? 'invalid key' : `invalid key: ${inner.join('; ')}`
    }
    case 'unrecognized_keys':
      return unknownKeys(issue.keys, knownKeys(issue.inst))
    default:
      return undefined
  }
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer'
    case 'object':
    case 'array':
      return `an ${expected}`
    default:
      return `a ${expected}`
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'number' && !Number.isInteger(value)) return `the number ${value}`
  return `${typeof value === 'string' ? 'a string' : `a ${typeof value}`}`
}

function bound(word: string, strictWord: string, origin: string, limit: number | bigint | Date, inclusive: boolean | undefined): string {
  const n = Number(limit)
  const relation = inclusive === false ? strictWord : word
  switch (origin) {
    case 'array':
      return n === 1 && word === 'at least' ? 'must not be empty' : `expected ${relation} ${n} item${n === 1 ? '' : 's'}`
    case 'string':
      return n === 1 && word === 'at least' ? 'must not be empty' : `expected ${relation} ${n} character${n === 1 ? '' : 's'}`
    default:
      return `expected ${relation} ${n}`
  }
}

function knownKeys(inst: unknown): string[] {
  if (typeof inst !== 'object' || inst === null || !('_zod' in inst)) return []
  const internals: unknown = inst._zod
  if (typeof internals !== 'object' || internals === null || !('def' in internals)) return []
  const def: unknown = internals.def
  if (typeof def !== 'object' || def === null || !('shape' in def)) return []
  const shape: unknown = def.shape
  return typeof shape === 'object' && shape !== null ? Object.keys(shape) : []
}

function unknownKeys(keys: readonly string[], known: readonly string[]): string {
  const parts = keys.map((key) => {
    const suggestion = closest(key, known)
    return suggestion === undefined ? JSON.stringify(key) : `${JSON.stringify(key)} (did you mean ${JSON.stringify(suggestion)}?)`
  })
  const allowed = known.length > 0 && parts.every((p) => !p.includes('did you mean')) ? `; allowed: ${known.join(', ')}` : ''
  return `unknown key${keys.length === 1 ? '' : 's'} ${parts.join(', ')}${allowed}`
}

/** The known key a typo most likely meant: same letters ignoring case, or within edit distance 2. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate)
    if (distance <= Math.min(2, Math.floor(candidate.length / 2)) && (best === undefined || distance < best.distance)) {
      best = { key: candidate, distance }
    }
  }
  return best?.key
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
