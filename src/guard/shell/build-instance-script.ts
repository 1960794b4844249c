import { pathGlobPattern, type CommandTemplate } from '../../policy/command-template.js'
import { quoteArgv } from './quote-argv.js'

/**
 * Exit code of a script that refused a path before running the command: EX_NOPERM of
 * sysexits.h. Read together with the marker line on stderr, never alone (a command may exit 77).
 */
export const PATH_REFUSED_EXIT_CODE = 77

/** Why the instance refused a path argument. */
export type PathRefusalReason =
  /** `realpath -e` failed: the path does not exist, cannot be searched, or realpath is missing. */
  | 'unresolved'
  /** The canonical path is outside the template's tree (or outside the safe charset). */
  | 'outside'

export interface PathRefusal {
  /** Index of the refused word in the argv (and in the template). */
  readonly word: number
  readonly reason: PathRefusalReason
}

// Spelled out rather than as ranges: a range's meaning depends on the instance's locale.
const SAFE_PATH_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@:+=,/-'
const NONCE = /^[0-9a-f]{16,64}$/

function quote(word: string): string {
  return quoteArgv([word])
}

function marker(nonce: string): string {
  return `airlock-path-refused:${nonce}:`
}

/**
 * The script sent to the instance for an argv that matched `template`. Without `{path:…}`
 * placeholders it is the quoted argv alone. Otherwise, before the command, each path argument
 * is canonicalised on the instance (`realpath -e`, so symbolic links are followed there, where
 * they live) and the canonical path must be in the safe charset and inside the placeholder's tree
 * (its glob as a `grep -E` pattern); the command then runs on the canonical path, not the one
 * given. Any failure prints one marker line with `nonce` to stderr and exits
 * {@link PATH_REFUSED_EXIT_CODE} before the command runs. `nonce` is fresh per call (hex), so
 * output the command itself prints cannot pass for a refusal.
 * Throws TypeError when argv does not fit the template's length or the nonce is not hex.
 */
export function buildInstanceScript(argv: readonly string[], template: CommandTemplate, nonce: string): string {
  if (argv.length !== template.parts.length) throw new TypeError('argv does not fit the template it matched')
  if (!NONCE.test(nonce)) throw new TypeError('the nonce must be 16–64 hex digits')
  const paths = template.parts.flatMap((part, word) => (part.kind === 'path' ? [{ word, pattern: pathGlobPattern(part) }] : []))
  if (paths.length === 0) return quoteArgv(argv)
  const variable = (word: number): string => `airlock_path_${word}`
  const lines = [`airlock_refuse() { printf '%s%s\\n' ${quote(marker(nonce))} "$1" >&2; exit ${PATH_REFUSED_EXIT_CODE}; }`]
  for (const { word, pattern } of paths) {
    const name = variable(word)
    lines.push(
      `${name}=$(realpath -e -- ${quote(argv[word] ?? '')} 2>/dev/null) || airlock_refuse ${word}:unresolved`,
      `case "$${name}" in '' | *[!${SAFE_PATH_CHARS}]*) airlock_refuse ${word}:outside ;; esac`,
      `printf '%s\\n' "$${name}" | grep -Eq ${quote(pattern)} || airlock_refuse ${word}:outside`,
    )
  }
  const isPath = new Set(paths.map((p) => p.word))
  lines.push(argv.map((arg, word) => (isPath.has(word) ? `"$${variable(word)}"` : quote(arg))).join(' '))
  return lines.join('\n')
}

/**
 * The refusal an instance script reported, when the run ended with {@link PATH_REFUSED_EXIT_CODE}
 * and stderr holds this call's marker line; undefined otherwise (the command ran).
 */
export function findPathRefusal(outcome: { readonly exitCode: number; readonly stderr: string }, nonce: string): PathRefusal | undefined {
  if (outcome.exitCode !== PATH_REFUSED_EXIT_CODE) return undefined
  const prefix = marker(nonce)
  for (const line of outcome.stderr.split('\n')) {
    if (!line.startsWith(prefix)) continue
    const m = /^(\d{1,2}):(unresolved|outside)$/.exec(line.slice(prefix.length))
    if (m !== null) return { word: Number(m[1]), reason: m[2] === 'unresolved' ? 'unresolved' : 'outside' }
  }
  return undefined
}
