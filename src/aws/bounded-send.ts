import { UpstreamError } from '../errors.js'

/** How long a cleanup call (RollbackTransaction, CancelCommand) may take after the call itself ended. */
export const CLEANUP_TIMEOUT_MS = 3_000

/** What the SDK's `client.send(command, options)` accepts as its second argument. */
export interface SendOptions {
  readonly abortSignal: AbortSignal
  /** Per call: @smithy/node-http-handler's request timeout (until the response headers), replacing the client's. */
  readonly requestTimeout?: number
}

export interface SendBounds {
  /** What the call is, for logs (e.g. "SendCommand"). */
  readonly label: string
  /** The caller's cancellation; undefined for cleanup calls, which must run even after it fired. */
  readonly signal: AbortSignal | undefined
  /** This call's own bound; the tool passes what is left of its deadline (or less). */
  readonly timeoutMs: number
  /**
   * Replaces the client's HTTP request timeout for this call, for calls allowed to take longer
   * than it (a statement with a long grant timeout); otherwise the client's applies as well.
   */
  readonly httpTimeoutMs?: number
}

/**
 * Sends one AWS call bounded by the caller's signal and a deadline: both abort the HTTP request
 * and settle this promise at once, even if the SDK would still be reading. Other failures are
 * the SDK's own errors, unchanged, for the tool to map.
 * @throws UpstreamError CANCELLED (the caller's signal) or AWS_TIMEOUT (the deadline passed)
 */
export async function sendBounded<T>(send: (options: SendOptions) => Promise<T>, bounds: SendBounds): Promise<T> {
  const timeoutMs = Math.max(1, Math.floor(bounds.timeoutMs))
  const abort = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let onCancel: () => void = () => undefined
  const interrupted = new Promise<never>((_, reject) => {
    const stop = (error: UpstreamError) => {
      abort.abort(error)
      reject(error)
    }
    timer = setTimeout(() => stop(new UpstreamError('AWS_TIMEOUT', `${bounds.label}: no answer within ${timeoutMs} ms`)), timeoutMs)
    onCancel = () => stop(new UpstreamError('CANCELLED', `${bounds.label}: cancelled by the caller`))
    if (bounds.signal?.aborted === true) onCancel()
    else bounds.signal?.addEventListener('abort', onCancel, { once: true })
  })
  // Observed here so a call that wins the race leaves no unhandled rejection behind.
  interrupted.catch(() => undefined)
  try {
    if (abort.signal.aborted) return await interrupted
    const options = bounds.httpTimeoutMs === undefined ? { abortSignal: abort.signal } : { abortSignal: abort.signal, requestTimeout: Math.max(1, Math.floor(bounds.httpTimeoutMs)) }
    return await Promise.race([send(options), interrupted])
  } finally {
    clearTimeout(timer)
    bounds.signal?.removeEventListener('abort', onCancel)
  }
}
