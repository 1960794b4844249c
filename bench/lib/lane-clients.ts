import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client'
import { connectMcp } from './load.js'
import { ownSignalFetch } from './own-signal-fetch.js'

/** The MCP protocol lanes the gateway serves. */
export type Lane = '2025' | '2026'
export const LANES: readonly Lane[] = ['2025', '2026']

/** What a benchmark worker needs of a connected client, whichever SDK and lane. */
export interface LaneClient {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>
  close(): Promise<void>
}

/**
 * A client on one lane: 2025-06-18 with the v1 SDK client (initialize, then a session), or
 * 2026-07-28 with the v2 client pinned to it (stateless, no session), as agents connect.
 */
/** Whether a tools/call result is an error result. */
export function isErrorResult(result: unknown): boolean {
  return typeof result === 'object' && result !== null && 'isError' in result && result.isError === true
}

export async function connectLane(lane: Lane, url: string, headers: Record<string, string>): Promise<LaneClient> {
  if (lane === '2025') {
    const client = await connectMcp(url, headers)
    return { callTool: async (params) => client.callTool(params), close: () => client.close() }
  }
  const client = new ModernClient({ name: 'bench', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
  await client.connect(new ModernTransport(new URL(url), { requestInit: { headers }, fetch: ownSignalFetch }))
  return { callTool: async (params) => client.callTool(params), close: () => client.close() }
}
