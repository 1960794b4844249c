/** The MCP `tools/call` result shape. */
export interface CallResult {
  [key: string]: unknown
  content: { type: 'text'; text: string }[]
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

/** Where every tool result names its call's correlation id (errors also say it in their text). */
export const CORRELATION_META_KEY = 'dev.airlock/correlationId'

/** An error result: `[CODE] text (correlation id …)`, isError, the id in `_meta`. */
export function errorResult(code: string, text: string, correlationId: string): CallResult {
  return { content: [{ type: 'text', text: `[${code}] ${text} (correlation id ${correlationId})` }], isError: true, _meta: { [CORRELATION_META_KEY]: correlationId } }
}

/** Where a result names the approval request it waits on. */
export const APPROVAL_REQUEST_META_KEY = 'dev.airlock/approvalRequest'

