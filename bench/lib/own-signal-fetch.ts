/**
 * `fetch` for the load generator's MCP clients: each request gets its own AbortSignal, tied to
 * the one the client passes. The SDK clients pass one long-lived signal to every request, and
 * fetch leaves an abort listener on it until that Request is garbage-collected, so a client
 * calling back to back piles up more than 1,500 of them and Node prints a
 * MaxListenersExceededWarning per call. Here the tie is cut as soon as the response body ends.
 */
export const ownSignalFetch: typeof fetch = async (input, init) => {
  const outer = init?.signal
  if (outer === undefined || outer === null) return fetch(input, init)
  const inner = new AbortController()
  const forward = () => inner.abort(outer.reason)
  const untie = () => outer.removeEventListener('abort', forward)
  if (outer.aborted) forward()
  else outer.addEventListener('abort', forward, { once: true })
  try {
    const response = await fetch(input, { ...init, signal: inner.signal })
    if (response.body === null) {
      untie()
      return response
    }
    // A stream the client cancels keeps its tie until the client's signal fires (once, at close).
    return new Response(response.body.pipeThrough(new TransformStream({ flush: untie })), response)
  } catch (error) {
    untie()
    throw error
  }
}
