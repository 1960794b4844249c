import { AirlockError } from '../errors.js'

/** Operator log: one JSON object per line on stderr. Errors keep their code and cause chain. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, error?: unknown, fields?: Record<string, unknown>): void
}

function describe(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error) || depth > 4) return { value: String(error) }
  return {
    name: error.name,
    ...(error instanceof AirlockError ? { code: error.code } : {}),
    message: error.message,
    ...(error.cause === undefined ? {} : { cause: describe(error.cause, depth + 1) }),
  }
}

export function createLogger(write: (line: string) => void, now: () => number): Logger {
  const emit = (level: string, message: string, fields: Record<string, unknown> = {}) =>
    write(`${JSON.stringify({ ts: new Date(now()).toISOString(), level, message, ...fields })}\n`)
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, error, fields) => emit('error', message, { ...fields, ...(error === undefined ? {} : { error: describe(error) }) }),
  }
}

/** A logger that discards everything (tests that assert on other channels). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} }
