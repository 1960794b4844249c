import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { CliIo } from './cli-io.js'
import { sanitize } from './cli-text.js'
import { usageLine, type UsageKey } from './command-usage.js'

type FlagOptions = NonNullable<ParseArgsConfig['options']>
/** What parseArgs returns for `options` (named, so the compiled declarations can refer to it). */
export type ParsedFlags<O extends FlagOptions> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>>

/** Exit code of every usage error. */
export const USAGE_ERROR = 2

/**
 * Parses `argv` strictly against `options`. On an unknown option, a missing value or an
 * unexpected argument, prints one line naming it (`airlock audit tail: unknown option --x`), then
 * the usage, and returns undefined: the caller exits with USAGE_ERROR before doing anything.
 */
export function parseFlags<const O extends FlagOptions>(argv: readonly string[], options: O, key: UsageKey, io: CliIo, allowPositionals = true): ParsedFlags<O> | undefined {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true })
  } catch (error) {
    usageError(io, key, flagProblem(error))
    return undefined
  }
}

/** Prints `airlock <key>: <problem>` and the usage line; returns USAGE_ERROR. */
export function usageError(io: CliIo, key: UsageKey, problem: string): number {
  io.stderr(`airlock ${key}: ${sanitize(problem)}\n${usageLine(key)}\n`)
  return USAGE_ERROR
}

/** What parseArgs refused, as a short phrase naming the argument. */
export function flagProblem(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? error.code : undefined
  const quoted = error instanceof Error ? /'([^']*)'/.exec(error.message)?.[1] : undefined
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? ''}`.trim()
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = (quoted ?? 'an option').replace(/ <value>$/, '')
      return error instanceof Error && error.message.includes('does not take') ? `${option} takes no value` : `${option} needs a value`
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${quoted ?? ''}`.trim()
    default:
      return 'invalid arguments'
  }
}
