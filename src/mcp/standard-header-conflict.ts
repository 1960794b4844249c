import type { IncomingMessage } from 'node:http'
import { z } from 'zod'

// Loose: a client's JSON-RPC message; only what the standard headers mirror is read.
const mirroredSchema = z.object({
  method: z.string(),
  params: z.looseObject({ name: z.unknown().optional(), uri: z.unknown().optional() }).optional(),
})

function single(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/**
 * Why a 2025-lane POST's `Mcp-Method`/`Mcp-Name` headers (SEP-2243, which 2025 clients never send)
 * contradict its body, or undefined when they are absent or agree. A proxy in front may route or
 * authorise on those headers, so a request whose headers and body disagree is refused rather
 * than served on the body alone. The 2026-07-28 lane gets the SDK's own, stricter check.
 */
export function standardHeaderConflict(req: IncomingMessage, body: unknown): string | undefined {
  const method = single(req, 'mcp-method')
  const name = single(req, 'mcp-name')
  if (method === undefined && name === undefined) return undefined
  const parsed = mirroredSchema.safeParse(body)
  if (!parsed.success) return 'Mcp-Method/Mcp-Name headers on a body that is not one JSON-RPC request'
  if (method !== undefined && method !== parsed.data.method) return 'the Mcp-Method header disagrees with the body'
  if (name !== undefined) {
    const mirrored = parsed.data.params?.name ?? parsed.data.params?.uri
    if (name !== mirrored) return 'the Mcp-Name header disagrees with the body'
  }
  return undefined
}
