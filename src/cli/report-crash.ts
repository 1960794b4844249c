import { AirlockError } from '../errors.js'
import { sanitize } from './cli-text.js'

/**
 * The one line a user sees when a command fails with an error nothing else handled: the
 * error's code and what it was doing, never a stack trace (`AIRLOCK_DEBUG=1` adds the stack).
 */
export function crashLine(error: unknown, debug: boolean): string {
  const detail = debug && error instanceof Error && error.stack !== undefined ? `\n${error.stack}` : ''
  return `airlock: ${sanitize(describe(error))}${debug ? '' : ' (AIRLOCK_DEBUG=1 shows the stack)'}${detail}\n`
}

function describe(error: unknown): string {
  if (error instanceof AirlockError) return `${error.code}: ${error.message.split('\n')[0] ?? ''}`
  if (!(error instanceof Error)) return 'failed'
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined
  const syscall = 'syscall' in error && typeof error.syscall === 'string' ? error.syscall : undefined
  const address = 'address' in error && typeof error.address === 'string' ? `${error.address}${'port' in error && typeof error.port === 'number' ? `:${error.port}` : ''}` : undefined
  if (code !== undefined) return `failed: ${[code, syscall, address].filter((p) => p !== undefined).join(' ')}`
  return `unexpected ${error.name}: ${error.message.split('\n')[0] ?? ''}`
}
