import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import { sendJson } from './send-json.js'
import { namesMethod } from './names-method.js'

const toolCallSchema = z.object({ method: z.literal('tools/call') })

/** Whether a body (one message or a batch) carries a tools/call. */
export function callsTool(body: unknown): boolean {
  return (Array.isArray(body) ? body : [body]).some((message) => namesMethod(message, 'tools/call') && toolCallSchema.safeParse(message).success)
}

/** 503 for a request the gateway cannot decide without its state store; clients retry after the header. */
export function stateUnavailable(res: ServerResponse, retryAfterSeconds: number): void {
  sendJson(
    res,
    503,
    { jsonrpc: '2.0', error: { code: -32000, message: 'The gateway cannot reach its state store, so calls are refused for now; retry shortly.' }, id: null },
    { 'retry-after': String(retryAfterSeconds) },
  )
}
