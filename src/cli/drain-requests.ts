import type { IncomingMessage, ServerResponse } from 'node:http'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** Seconds a client is told to wait before retrying a request refused during the drain (another replica answers). */
export const DRAIN_RETRY_AFTER_SECONDS = 1

/**
 * What is in flight in the gateway, for a graceful shutdown: HTTP requests, and tool calls (whose
 * audit record is written even when their client has gone).
 */
export interface RequestDrain {
  /** The HTTP handler, counted while a response is open; once draining, new requests get 503. */
  wrap(handler: Handler): Handler
  /** Counts `work` as in flight until it settles (and the caller's next step, its audit write, has started). */
  track<T>(work: Promise<T>): Promise<T>
  /** Starts the drain: every later request is refused with 503, `Retry-After` and `Connection: close`. */
  begin(): void
  readonly draining: boolean
  readonly inflight: number
  /** Resolves true once nothing is in flight, or false when `timeoutMs` passes first. */
  settled(timeoutMs: number): Promise<boolean>
}

const REFUSAL = JSON.stringify({
  jsonrpc: '2.0',
  error: { code: -32000, message: 'The gateway is shutting down; retry the request (another instance will answer).' },
  id: null,
})

function refuse(req: IncomingMessage, res: ServerResponse): void {
  req.resume()
  res.writeHead(503, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'retry-after': String(DRAIN_RETRY_AFTER_SECONDS),
    connection: 'close',
  })
  res.end(REFUSAL)
}

/** Creates the tracker; `begin()` is called once, when shutdown starts. */
export function createRequestDrain(): RequestDrain {
  let draining = false
  let inflight = 0
  const open = new Set<ServerResponse>()
  const waiters = new Set<() => void>()

  function release(): void {
    inflight -= 1
    if (inflight === 0) for (const wake of waiters) wake()
  }

  return {
    wrap(handler) {
      return function drained(req, res) {
        if (draining) return refuse(req, res)
        inflight += 1
        open.add(res)
        res.once('close', () => {
          open.delete(res)
          release()
        })
        handler(req, res)
      }
    },
    track(work) {
      inflight += 1
      // A macrotask later: the awaiting caller has resumed and queued its audit record by then.
      const settle = () => void setImmediate(release)
      work.then(settle, settle)
      return work
    },
    begin() {
      draining = true
      // Responses still to start tell their client not to reuse the connection.
      for (const res of open) if (!res.headersSent) res.setHeader('connection', 'close')
    },
    get draining() {
      return draining
    },
    get inflight() {
      return inflight
    },
    settled(timeoutMs) {
      if (inflight === 0) return Promise.resolve(true)
      return new Promise<boolean>((resolve) => {
        const done = (idle: boolean) => {
          clearTimeout(timer)
          waiters.delete(wake)
          resolve(idle)
        }
        const wake = () => done(true)
        const timer = setTimeout(() => done(false), timeoutMs)
        waiters.add(wake)
      })
    },
  }
}
