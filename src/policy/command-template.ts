import { ConfigError } from '../errors.js'

/**
 * Argv templates for `ssm_run` (grant `ssm.commands`). Each template is an array of words; a word
 * is either a literal or, as a whole word, one typed placeholder:
 *
 * - `{word}`: one safe word (`[A-Za-z0-9._@:+=,-]`, 1–128 chars, no leading `-`).
 * - `{<name>}` (e.g. `{unit}`): a `{word}` with a label for messages. Only plain lowercase names
 *   are read this way; `{type:arg}` with an unknown type is a policy error, so a typo such as
 *   `{itn:1-5}` fails policy load instead of widening into a word.
 * - `{int}` / `{int:MIN-MAX}`: a non-negative decimal integer, default bounds 0–100000.
 * - `{path:GLOB}`: an absolute, normalised path (no `.`/`..` segment, no `//`, no trailing `/`,
 *   safe charset) matching GLOB, where `*` matches within one segment and `**` any number of
 *   whole segments.
 * - `{a|b|c}`: one of these literal words.
 *
 * The first word must be a literal or a choice of literals: a placeholder there would let the
 * caller pick the program. Placeholders embedded inside a longer word (`--lines={int}`) are not
 * supported; write the option and its value as two words.
 */
export type TemplatePart =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'word'; readonly name: string }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'path'; readonly glob: string; readonly segments: readonly string[] }
  | { readonly kind: 'choice'; readonly options: readonly string[] }

export interface CommandTemplate {
  /** The words as written in the policy. */
  readonly source: readonly string[]
  readonly parts: readonly TemplatePart[]
}

export const DEFAULT_INT_MAX = 100_000
const INT_HARD_MAX = 1_000_000_000
const WORD_MAX = 128
const PATH_MAX = 1024
const SAFE_WORD = /^[A-Za-z0-9._@:+=,-]+$/
const SAFE_SEGMENT = /^[A-Za-z0-9._@:+=,-]+$/
const GLOB_SEGMENT = /^[A-Za-z0-9._@:+=,*-]+$/
// Literals are quoted before they reach a shell, but a policy author writing control characters,
// quotes or braces into one is almost certainly making a mistake.
const LITERAL = /^[\x21-\x7e]+$/
const NAME = /^[a-z][a-z0-9_-]{0,31}$/

function invalid(message: string): ConfigError {
  return new ConfigError('POLICY_INVALID', message)
}

function parseIntBounds(arg: string): TemplatePart {
  const m = /^(\d{1,10})-(\d{1,10})$/.exec(arg)
  if (m === null) throw invalid(`{int:${arg}}: expected bounds such as {int:1-1000}`)
  const min = Number(m[1])
  const max = Number(m[2])
  if (min > max) throw invalid(`{int:${arg}}: lower bound above upper bound`)
  if (max > INT_HARD_MAX) throw invalid(`{int:${arg}}: upper bound above ${INT_HARD_MAX}`)
  return { kind: 'int', min, max }
}

function parsePathGlob(glob: string): TemplatePart {
  if (!glob.startsWith('/') || glob.length > PATH_MAX) throw invalid(`{path:${glob}}: the glob must be an absolute path`)
  const segments = glob.slice(1).split('/')
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw invalid(`{path:${glob}}: empty, "." or ".." segment in the glob`)
    }
    if (!GLOB_SEGMENT.test(segment)) throw invalid(`{path:${glob}}: unsupported character in the glob`)
    if (segment.includes('**') && segment !== '**') throw invalid(`{path:${glob}}: "**" must be a whole segment`)
  }
  return { kind: 'path', glob, segments }
}

/**
 * Parses one template word.
 * @throws ConfigError POLICY_INVALID with a message naming the problem.
 */
export function parseTemplateWord(word: string): TemplatePart {
  if (!word.startsWith('{') && !word.endsWith('}')) {
    if (word.includes('{') || word.includes('}')) {
      throw invalid(`"${word}": a placeholder must be a whole word`)
    }
    if (!LITERAL.test(word)) throw invalid('a literal word must be printable ASCII without spaces')
    if (word.includes("'") || word.includes('"') || word.includes('\\')) {
      throw invalid(`"${word}": quotes and backslashes are not allowed in literal words`)
    }
    return { kind: 'literal', value: word }
  }
  if (!word.startsWith('{') || !word.endsWith('}') || word.length < 3) {
    throw invalid(`"${word}": a placeholder must be a whole word such as {word}`)
  }
  const body = word.slice(1, -1)
  if (body.includes('{') || body.includes('}')) throw invalid(`"${word}": nested braces`)
  if (body.includes('|')) {
    const options = body.split('|')
    for (const option of options) {
      if (option === '' || !LITERAL.test(option) || /['"\\]/.test(option)) {
        throw invalid(`"${word}": each alternative must be a non-empty literal word`)
      }
    }
    if (new Set(options).size !== options.length) throw invalid(`"${word}": duplicate alternative`)
    return { kind: 'choice', options }
  }
  if (body === 'word') return { kind: 'word', name: 'word' }
  if (body === 'int') return { kind: 'int', min: 0, max: DEFAULT_INT_MAX }
  const colon = body.indexOf(':')
  if (colon >= 0) {
    const type = body.slice(0, colon)
    const arg = body.slice(colon + 1)
    if (type === 'int') return parseIntBounds(arg)
    if (type === 'path') return parsePathGlob(arg)
    throw invalid(`"${word}": unknown placeholder type "${type}" (expected word, int, path or a|b)`)
  }
  if (body === 'path') throw invalid('{path} needs a glob, e.g. {path:/var/log/**}')
  if (NAME.test(body)) return { kind: 'word', name: body }
  throw invalid(`"${word}": unknown placeholder (expected {word}, {int}, {path:GLOB}, {a|b} or {name})`)
}

/**
 * Parses a whole template.
 * @throws ConfigError POLICY_INVALID; the message starts with the index of the offending word.
 */
export function parseCommandTemplate(words: readonly string[]): CommandTemplate {
  if (words.length === 0) throw invalid('a command template needs at least one word')
  const parts = words.map((word, i) => {
    try {
      return parseTemplateWord(word)
    } catch (error) {
      throw new ConfigError('POLICY_INVALID', `word ${i}: ${error instanceof Error ? error.message : 'invalid'}`, { cause: error })
    }
  })
  const first = parts[0]
  if (first !== undefined && first.kind !== 'literal' && first.kind !== 'choice') {
    throw invalid('word 0: the command name must be a literal (or a choice of literals)')
  }
  return { source: [...words], parts }
}

/** Whether `value` is a normalised absolute path in the safe charset (no `.`, `..`, `//`). */
export function isSafeAbsolutePath(value: string): boolean {
  if (!value.startsWith('/') || value.length < 2 || value.length > PATH_MAX) return false
  return value
    .slice(1)
    .split('/')
    .every((s) => s !== '' && s !== '.' && s !== '..' && SAFE_SEGMENT.test(s))
}

function segmentMatches(pattern: string, segment: string): boolean {
  // `*` within a segment: translate to a regex over the safe charset (which has no regex specials
  // other than `.` and `+`, escaped here).
  const source = pattern
    .split('*')
    .map((piece) => piece.replace(/[.+]/g, (c) => `\\${c}`))
    .join('[^/]*')
  return new RegExp(`^${source}$`).test(segment)
}

function globMatches(pattern: readonly string[], segments: readonly string[]): boolean {
  const [head, ...rest] = pattern
  if (head === undefined) return segments.length === 0
  if (head === '**') {
    for (let skip = 0; skip <= segments.length; skip++) {
      if (globMatches(rest, segments.slice(skip))) return true
    }
    return false
  }
  const [first, ...others] = segments
  return first !== undefined && segmentMatches(head, first) && globMatches(rest, others)
}

/**
 * A `{path:GLOB}` placeholder's tree as an anchored POSIX extended regular expression (also valid
 * as a JavaScript one), matching exactly the normalised absolute paths the glob matches: `*` is
 * any run within one segment, `**` any number of whole segments. The instance re-checks each
 * canonical path with it (`grep -E`); the glob's charset has no quote, so it single-quotes safely.
 */
export function pathGlobPattern(part: Extract<TemplatePart, { kind: 'path' }>): string {
  const body = part.segments
    .map((segment) => (segment === '**' ? '(/[^/]+)*' : `/${segment.replace(/[.+]/g, (c) => `\\${c}`).replaceAll('*', '[^/]*')}`))
    .join('')
  return `^${body}$`
}

/** Why `value` does not fit `part`, or undefined when it does. */
export function checkTemplateArgument(part: TemplatePart, value: string): string | undefined {
  switch (part.kind) {
    case 'literal':
      return value === part.value ? undefined : `expected "${part.value}"`
    case 'choice':
      return part.options.includes(value) ? undefined : `expected one of ${part.options.join(', ')}`
    case 'word':
      if (value.length === 0 || value.length > WORD_MAX) return `{${part.name}}: 1–${WORD_MAX} characters`
      if (value.startsWith('-')) return `{${part.name}}: must not start with "-"`
      return SAFE_WORD.test(value) ? undefined : `{${part.name}}: only letters, digits and . _ @ : + = , -`
    case 'int': {
      if (!/^(0|[1-9]\d{0,9})$/.test(value)) return '{int}: expected a non-negative integer'
      const n = Number(value)
      return n >= part.min && n <= part.max ? undefined : `{int}: expected ${part.min}–${part.max}`
    }
    case 'path':
      if (!isSafeAbsolutePath(value)) return '{path}: expected a normalised absolute path'
      return globMatches(part.segments, value.slice(1).split('/')) ? undefined : `{path}: outside ${part.glob}`
  }
}
