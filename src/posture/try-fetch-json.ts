/** GETs a JSON document; undefined on any failure (unreachable, non-2xx, not JSON, timeout). */
export async function tryFetchJson(doFetch: typeof fetch, url: string, timeoutMs: number): Promise<unknown> {
  try {
    const res = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) })
    if (!res.ok) {
      await res.body?.cancel()
      return undefined
    }
    const json: unknown = await res.json()
    return json
  } catch {
    return undefined
  }
}
