import pino from 'pino'
import { AirlockError } from '../errors.js'

/**
 * Operator log: one JSON object per line (pino: `level`, `time`, `pid`, `hostname`, the fields,
 * `msg`). Errors keep their class, code and cause chain.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, error?: unknown, fields?: Record<string, unknown>): void
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface LoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  readonly level?: LogLevel
}

/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEY = /^(authorization|proxy-authorization|cookie|set-cookie|password|passwd|secret|token|access_?token|refresh_?token|id_?token|client_?secret|api_?key|private_?key|session_?id|mcp-session-id|args|arguments|params|parameters|sql)$/i
const JWT = /\be[wy][A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g
const BEARER = /\b(bearer)\s+[^\s"',;]+/gi
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi
const SYSTEM_CODE = /^[A-Z][A-Z0-9_]{1,47}$/
const MAX_DEPTH = 6

/** Masks what looks like a bearer token, a JWT or URL credentials in free text. */
export function scrubText(text: string): string {
  return text.replace(BEARER, '$1 [redacted]').replace(JWT, '[redacted-jwt]').replace(URL_USERINFO, '$1[redacted]@')
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value)
  if (typeof value !== 'object' || value === null) return value
  if (depth >= MAX_DEPTH) return '[depth]'
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1))
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, SECRET_KEY.test(key) ? '[redacted]' : scrub(item, depth + 1)]))
}

function systemCode(error: Error): string | undefined {
  const code = 'code' in error ? error.code : undefined
  return typeof code === 'string' && SYSTEM_CODE.test(code) ? code : undefined
}

/**
 * An error as logged. Our own errors keep their message (written for operators, never holding a
 * token, secret or SQL parameter). Anything else (a driver, the SDK, the runtime) may quote its
 * input, a parameter or a header in its message, so only its class, system code and stack frames
 * are kept; the audit record of the same correlation id holds the detail.
 */
export function describeError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { thrown: typeof error }
  if (depth > 4) return { name: error.name }
  const own = error instanceof AirlockError
  const code = own ? error.code : systemCode(error)
  const frames = own ? [] : (error.stack ?? '').split('\n').filter((line) => line.startsWith('    at ')).slice(0, 8).map((line) => line.trim())
  return {
    name: error.name,
    ...(code === undefined ? {} : { code }),
    ...(own ? { message: error.message } : {}),
    ...(frames.length === 0 ? {} : { stack: frames }),
    ...(error.cause === undefined ? {} : { cause: describeError(error.cause, depth + 1) }),
  }
}

/** A JSON-lines logger writing each line to `write`; `now` stamps `time`. */
export function createLogger(write: (line: string) => void, now: () => number, options: LoggerOptions = {}): Logger {
  const log = pino(
    {
      level: options.level ?? 'info',
      timestamp: () => `,"time":"${new Date(now()).toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => scrub(fields, 0) as Record<string, unknown>,
      },
    },
    { write },
  )
  return {
    info: (message, fields = {}) => log.info(fields, scrubText(message)),
    warn: (message, fields = {}) => log.warn(fields, scrubText(message)),
    error: (message, error, fields = {}) => log.error({ ...fields, ...(error === undefined ? {} : { error: describeError(error) }) }, scrubText(message)),
  }
}

/** A logger that discards everything (tests that assert on other channels). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} }
