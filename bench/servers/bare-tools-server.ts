// Baseline for bench/index.ts: the gateway's own tool implementations (tools/*.ts, with the same AWS
// clients and emulators) on a bare MCP SDK server, with no token, policy decision, limits, audit,
// output detectors or sessions of its own, and sql_query and ssm_run without their guards and
// masking (unguarded-tools.ts). Both protocol lanes, as the gateway serves them:
// 2025-06-18 with an SDK session (one McpServer per session, JSON responses as the gateway sends) and
// 2026-07-28 through the SDK's stateless entry (one server per request, JSON unless it streams).
// BENCH_POLICY, BENCH_AWS_ENDPOINTS, BENCH_AWS_KEY as for airlock-server.ts: the policy is read once,
// at start, only to hand each tool the grant and connection the gateway would (its limits).
// BENCH_CPU_PROFILE: where SIGHUP-driven CPU profiles go, as for the gateway (answerProfileRequests).
// BENCH_BARE_2025=per-request: after initialize, each 2025 request gets a fresh server and transport
// instead of its session's, as a server must whose sessions any replica can continue (the gateway
// keeps them in its shared store and serves each request afresh); it shows what holding one server
// per session in memory saves the default baseline.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { NodeStreamableHTTPServerTransport, toNodeHandler } from '@modelcontextprotocol/node'
import { classifyInboundRequest, createMcpHandler, isInitializeRequest, McpServer } from '@modelcontextprotocol/server'
import { z } from 'zod'
import type { Principal } from '../../src/auth/principal.js'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { systemClock } from '../../src/clock.js'
import { buildPolicy } from '../../src/policy/build-policy.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { AnyToolDefinition } from '../../tools/define-tool.js'
import { registeredTools } from '../../tools/index.js'
import { announceReady, answerProfileRequests } from './answer-probes.js'
import { UNGUARDED_HANDLERS } from './unguarded-tools.js'

const WHOAMI_POLICY = { version: 1, grants: [{ id: 'bench', groups: ['bench'], tools: ['whoami'], ttl: '12h' }] }
const keySchema = z.object({ accessKeyId: z.string(), secretAccessKey: z.string() })
const endpointsSchema = z.object({ rdsData: z.string().optional(), ssm: z.string().optional(), eks: z.string().optional() })
const json = (name: string): unknown => {
  const text = process.env[name]
  return text === undefined || text === '' ? undefined : JSON.parse(text)
}

const built = buildPolicy([{ source: 'bench', data: json('BENCH_POLICY') ?? WHOAMI_POLICY }])
if (!built.ok) throw new TypeError(`bench policy invalid: ${JSON.stringify(built.issues)}`)
const policy = built.policy
const key = keySchema.optional().parse(json('BENCH_AWS_KEY'))
const endpoints = endpointsSchema.parse(json('BENCH_AWS_ENDPOINTS') ?? {})
const deps = createToolDeps({
  aws: createAwsClients({
    credentials: async () => {
      if (key === undefined) throw new TypeError('no AWS in this benchmark')
      return key
    },
    endpoints: {
      ...(endpoints.rdsData === undefined ? {} : { rdsData: endpoints.rdsData }),
      ...(endpoints.ssm === undefined ? {} : { ssm: endpoints.ssm }),
      ...(endpoints.eks === undefined ? {} : { eks: endpoints.eks }),
    },
  }),
  clock: systemClock,
  tools: registeredTools.map((t) => ({ name: t.name, connectionKinds: t.connectionKinds })),
})
const principal: Principal = { issuer: 'bench', subject: 'bench', groups: ['bench'], expiresAt: 4_000_000_000 }
const noActivations = async () => new Map()

/** A tool with the grant and connection settled once: no per-call decision. */
function registerTool(server: McpServer, tool: AnyToolDefinition): void {
  const connectionId = tool.connectionKinds.length === 0 ? undefined : [...policy.connections.values()].find((c) => (tool.connectionKinds as readonly string[]).includes(c.kind))?.id
  const decision = evaluate(policy, principal, { tool: tool.name, connectionKinds: tool.connectionKinds, connection: connectionId }, systemClock.now())
  if (!decision.allow) return
  const input = connectionId === undefined ? tool.input : { ...tool.input, connection: z.string() }
  const handler = UNGUARDED_HANDLERS[tool.name] ?? tool.handler
  server.registerTool(
    tool.name,
    { title: tool.title, description: tool.description, inputSchema: z.strictObject(input) },
    async (args: Record<string, unknown>, ctx) => {
      const { connection: _connection, ...rest } = args
      const result = await handler({
        principal,
        grant: decision.grant,
        connection: decision.connection,
        args: rest,
        deps,
        signal: ctx.mcpReq.signal,
        progress: async () => {},
        activations: noActivations,
        policy,
      })
      return { content: [{ type: 'text' as const, text: result.text }], ...(result.structured === undefined ? {} : { structuredContent: result.structured }) }
    },
  )
}

function newServer(): McpServer {
  const server = new McpServer({ name: 'bare', version: '1.0.0' })
  for (const tool of registeredTools) registerTool(server, tool)
  return server
}

const sessions = new Map<string, NodeStreamableHTTPServerTransport>()
function newSession(): NodeStreamableHTTPServerTransport {
  const transport = new NodeStreamableHTTPServerTransport({
    // The gateway's 2025 lane answers a call that asked for no progress with plain JSON; so does this.
    enableJsonResponse: true,
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => {
      sessions.set(id, transport)
    },
  })
  void newServer().connect(transport)
  return transport
}
const PER_REQUEST_2025 = process.env.BENCH_BARE_2025 === 'per-request'
/** A request of a known session served by a server of its own (BENCH_BARE_2025=per-request). */
async function servedAfresh(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const transport = new NodeStreamableHTTPServerTransport({ enableJsonResponse: true })
  await newServer().connect(transport)
  await transport.handleRequest(req, res, body)
}
const modern = toNodeHandler(createMcpHandler(() => newServer(), { legacy: 'reject' }))

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

const http = createServer(async (req, res) => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body: unknown = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined
  const id = header(req, 'mcp-session-id')
  const existing = id === undefined ? undefined : sessions.get(id)
  if (existing !== undefined && PER_REQUEST_2025) return servedAfresh(req, res, body)
  if (existing !== undefined) return existing.handleRequest(req, res, body)
  if (req.method === 'POST' && isInitializeRequest(body)) return newSession().handleRequest(req, res, body)
  const version = header(req, 'mcp-protocol-version')
  const method = header(req, 'mcp-method')
  const name = header(req, 'mcp-name')
  const route = classifyInboundRequest({
    httpMethod: req.method ?? 'POST',
    body,
    ...(version === undefined ? {} : { protocolVersionHeader: version }),
    ...(method === undefined ? {} : { mcpMethodHeader: method }),
    ...(name === undefined ? {} : { mcpNameHeader: name }),
  })
  if (req.method === 'POST' && route.kind !== 'legacy') return modern({ headers: req.headers, method: 'POST', url: req.url ?? '/mcp', [Symbol.asyncIterator]: () => req[Symbol.asyncIterator]() }, res, body)
  res.writeHead(404).end()
})
answerProfileRequests(process.env.BENCH_CPU_PROFILE || undefined, 'bare')
http.listen(0, '127.0.0.1', () => announceReady(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`))
process.on('SIGTERM', () => process.exit(0))
