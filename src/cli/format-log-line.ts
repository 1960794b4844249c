import { z } from 'zod'

// Loose: a pino line from the gateway child; only level and msg are needed.
const lineSchema = z.looseObject({ level: z.string(), msg: z.string() })
const PLUMBING = new Set(['level', 'msg', 'time', 'pid', 'hostname'])

/**
 * A gateway JSON log line as one readable line for the sandbox's terminal:
 * `gateway info  airlock is listening  mcp=http://… admin=http://…`. Anything else passes through.
 */
export function formatLogLine(line: string): string {
  let parsed
  try {
    parsed = lineSchema.safeParse(JSON.parse(line))
  } catch {
    return `gateway ${line}`
  }
  if (!parsed.success) return `gateway ${line}`
  const { level, msg } = parsed.data
  const fields = Object.entries(parsed.data)
    .filter(([key]) => !PLUMBING.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
  return `gateway ${level.padEnd(5)} ${msg}${fields.length === 0 ? '' : `  ${fields.join(' ')}`}`
}
