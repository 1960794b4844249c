/** A cancellation that names a call by its session (id hash) and JSON-RPC id. */
export interface CancelNotice {
  readonly idHash: string
  readonly requestId: string
}

/**
 * Carries notifications/cancelled to whichever replica runs the call: on the 2025 lane the
 * cancellation is a separate HTTP request, which the load balancer may send to another replica.
 * Only notices for sessions already verified as the caller's are published.
 */
export interface CancelBus {
  publish(notice: CancelNotice): Promise<void>
  /** Calls `handler` for every notice from any replica (this one included); returns the unsubscribe. */
  subscribe(handler: (notice: CancelNotice) => void): () => void
}

/** One process: notices go straight to its own subscribers. */
export function createLocalCancelBus(): CancelBus {
  const handlers = new Set<(notice: CancelNotice) => void>()
  return {
    async publish(notice) {
      for (const handler of handlers) handler(notice)
    },
    subscribe(handler) {
      handlers.add(handler)
      return () => handlers.delete(handler)
    },
  }
}
