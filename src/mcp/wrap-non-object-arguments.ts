import { randomBytes } from 'node:crypto'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function needsWrapping(message: unknown): boolean {
  if (!isRecord(message) || message.method !== 'tools/call' || !isRecord(message.params)) return false
  const { params } = message
  return Object.hasOwn(params, 'arguments') && !isRecord(params.arguments)
}

function wrapMessage(message: unknown, key: string): unknown {
  if (!needsWrapping(message)) return message
  const { params } = message as { params: Record<string, unknown> }
  return { ...(message as Record<string, unknown>), params: { ...params, arguments: { [key]: params.arguments } } }
}

/** What {@link wrapNonObjectArguments} hands the SDK, and the key to undo it with (none when nothing was wrapped). */
export interface WrappedBody {
  readonly body: unknown
  readonly key: string | undefined
}

/**
 * The request body with the `arguments` of each `tools/call` that are not a JSON object (a
 * string, number, array, null or boolean) wrapped in a one-key object under a fresh random key. The
 * SDK checks `arguments` against its own schema before the gateway's handler runs and answers a
 * mismatch with its raw validation dump; wrapped, the call reaches the gateway's pipeline, which
 * {@link unwrapArguments} and refuses it with INPUT_INVALID like any other bad arguments. The key
 * is drawn per request, and only for a body that needs it: no caller can name it in advance, and
 * a body without such arguments is passed on as it is, with no key to unwrap.
 */
export function wrapNonObjectArguments(body: unknown): WrappedBody {
  const messages = Array.isArray(body) ? body : [body]
  if (!messages.some(needsWrapping)) return { body, key: undefined }
  const key = `airlock-arguments-${randomBytes(12).toString('hex')}`
  return { body: Array.isArray(body) ? body.map((message) => wrapMessage(message, key)) : wrapMessage(body, key), key }
}

/** The `arguments` exactly as the caller sent them, undoing {@link wrapNonObjectArguments} for `key`. */
export function unwrapArguments(args: Record<string, unknown> | undefined, key: string | undefined): unknown {
  if (args === undefined || key === undefined || !Object.hasOwn(args, key) || Object.keys(args).length !== 1) return args
  return args[key]
}
