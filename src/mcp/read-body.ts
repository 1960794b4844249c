import type { IncomingMessage } from 'node:http'

export type BodyResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: 'too_large' }

/** Reads a request body, stopping (without buffering the rest) as soon as it exceeds `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) return { ok: false, reason: 'too_large' }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > maxBytes) return { ok: false, reason: 'too_large' }
    chunks.push(buffer)
  }
  return { ok: true, text: Buffer.concat(chunks, size).toString('utf8') }
}
