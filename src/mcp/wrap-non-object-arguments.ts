import { randomBytes } from 'node:crypto'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A fresh key for one HTTP request's wrapped arguments: no caller can name it in advance. */
export function newArgumentsKey(): string {
  return `airlock-arguments-${randomBytes(12).toString('hex')}`
}

function wrapMessage(message: unknown, key: string): unknown {
  if (!isRecord(message) || message.method !== 'tools/call' || !isRecord(message.params)) return message
  const { params } = message
  if (!Object.hasOwn(params, 'arguments') || isRecord(params.arguments)) return message
  return { ...message, params: { ...params, arguments: { [key]: params.arguments } } }
}

/**
 * The request body with the `arguments` of each `tools/call` that are not a JSON object (a
 * string, number, array, null or boolean) wrapped in a one-key object under `key`. The SDK checks
 * `arguments` against its own schema before the gateway's handler runs and answers a mismatch
 * with its raw validation dump; wrapped, the call reaches the gateway's pipeline, which
 * {@link unwrapArguments} and refuses it with INPUT_INVALID like any other bad arguments.
 */
export function wrapNonObjectArguments(body: unknown, key: string): unknown {
  return Array.isArray(body) ? body.map((message) => wrapMessage(message, key)) : wrapMessage(body, key)
}

/** The `arguments` exactly as the caller sent them, undoing {@link wrapNonObjectArguments} for `key`. */
export function unwrapArguments(args: Record<string, unknown> | undefined, key: string): unknown {
  if (args === undefined || !Object.hasOwn(args, key) || Object.keys(args).length !== 1) return args
  return args[key]
}
