/** A problem in JSON text, with its 1-based position. */
export interface JsonTextProblem {
  readonly message: string
  /** Where inside the document, as zod-style path segments (for duplicate keys). */
  readonly path: readonly (string | number)[]
  readonly line: number
  readonly column: number
}

const MAX_DEPTH = 256

class Stop extends Error {}

/**
 * Checks JSON text strictly: reports the first syntax error with its line and column (the same on
 * every Node version), and every duplicate object key, which JSON.parse would silently resolve to
 * the last value. Returns an empty list when the text is clean.
 */
export function checkJsonText(text: string): JsonTextProblem[] {
  const problems: JsonTextProblem[] = []
  let i = 0

  const at = (offset: number, message: string, path: readonly (string | number)[] = []): JsonTextProblem => {
    const before = text.slice(0, offset)
    const line = before.split('\n').length
    return { message, path, line, column: offset - (before.lastIndexOf('\n') + 1) + 1 }
  }
  const fail = (message: string, offset = i): never => {
    problems.push(at(offset, message))
    throw new Stop()
  }
  const describe = (): string => (i >= text.length ? 'unexpected end of file' : `unexpected ${JSON.stringify(text[i])}`)
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++
  }
  const expect = (char: string, context: string) => {
    skipSpace()
    if (text[i] !== char) fail(`${describe()}; expected ${context}`)
    i++
  }

  const string = (): string => {
    const start = i
    i++ // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        const parsed: unknown = JSON.parse(text.slice(start, i))
        return typeof parsed === 'string' ? parsed : fail('bad string', start)
      }
      if (c < 0x20) fail('control character in string; escape it')
      if (c === 0x5c) {
        const next = text[i + 1] ?? ''
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape')
          i += 6
        } else if ('"\\/bfnrt'.includes(next) && next !== '') i += 2
        else fail(`bad escape "\\${next}"`)
      } else i++
    }
    return fail('unterminated string', start)
  }

  const value = (path: (string | number)[], depth: number): void => {
    if (depth > MAX_DEPTH) fail('nested too deeply')
    skipSpace()
    const c = text[i]
    if (c === '{') {
      i++
      const seen = new Set<string>()
      skipSpace()
      if (text[i] === '}') {
        i++
        return
      }
      for (;;) {
        skipSpace()
        if (text[i] !== '"') fail(`${describe()}; expected a property name in double quotes`)
        const keyOffset = i
        const key = string()
        if (seen.has(key)) problems.push(at(keyOffset, `duplicate key ${JSON.stringify(key)}; JSON would keep only the last one`, [...path, key]))
        seen.add(key)
        expect(':', '":"')
        value([...path, key], depth + 1)
        skipSpace()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return
        }
        fail(`${describe()}; expected "," or "}"`)
      }
    }
    if (c === '[') {
      i++
      skipSpace()
      if (text[i] === ']') {
        i++
        return
      }
      for (let index = 0; ; index++) {
        value([...path, index], depth + 1)
        skipSpace()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return
        }
        fail(`${describe()}; expected "," or "]"`)
      }
    }
    if (c === '"') {
      string()
      return
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400))
    if (literal === null) fail(`${describe()}; expected a value`)
    else i += literal[0].length
  }

  try {
    value([], 0)
    skipSpace()
    if (i < text.length) fail(`${describe()} after the end of the JSON value`)
  } catch (error) {
    if (!(error instanceof Stop)) throw error
  }
  return problems
}
