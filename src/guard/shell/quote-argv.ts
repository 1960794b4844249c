/**
 * Renders argv as one POSIX shell line in which every argument is single-quoted (`'` becomes
 * `'\''`), so the instance's shell performs no expansion and runs exactly these words.
 * Throws TypeError for an empty argv or a NUL byte (which no argv can carry).
 */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('quoteArgv needs at least one word')
  return argv
    .map((word) => {
      if (word.includes('\0')) throw new TypeError('argv words cannot contain NUL')
      return `'${word.replaceAll("'", "'\\''")}'`
    })
    .join(' ')
}
