// Baseline: the same whoami tool on a bare MCP SDK server (stateful Streamable HTTP, no auth, no policy, no audit).
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import { announceReady } from './answer-probes.js'

const sessions = new Map<string, StreamableHTTPServerTransport>()

function newSession(): StreamableHTTPServerTransport {
  const server = new McpServer({ name: 'bare', version: '1.0.0' })
  server.registerTool('whoami', { description: 'identity' }, async () => ({
    content: [{ type: 'text', text: 'subject: bench' }],
    structuredContent: { subject: 'bench' },
  }))
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => {
      sessions.set(id, transport)
    },
  })
  void server.connect(transport)
  return transport
}

const http = createServer(async (req, res) => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body: unknown = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined
  const id = req.headers['mcp-session-id']
  const existing = typeof id === 'string' ? sessions.get(id) : undefined
  if (existing !== undefined) return existing.handleRequest(req, res, body)
  if (req.method === 'POST' && isInitializeRequest(body)) return newSession().handleRequest(req, res, body)
  res.writeHead(404).end()
})
http.listen(0, '127.0.0.1', () => announceReady(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`))
