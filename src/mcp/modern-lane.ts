import type { IncomingMessage, ServerResponse } from 'node:http'
import { toNodeHandler, type NodeIncomingMessageLike } from '@modelcontextprotocol/node'
import { createMcpHandler } from '@modelcontextprotocol/server'
import { z } from 'zod'
import type { Principal } from '../auth/principal.js'
import type { Policy } from '../policy/policy.js'
import type { CallSession } from './call-tool.js'
import { sendJson } from './send-json.js'
import { createSessionServer, type SessionServerOptions } from './session-server.js'
import { wrapNonObjectArguments } from './wrap-non-object-arguments.js'
import { namesMethod } from './names-method.js'

/** What every request's server shares; the principal, policy snapshot and call session are per request. */
export type ModernLaneOptions = Omit<SessionServerOptions, 'principal' | 'policy' | 'session' | 'inflight' | 'argumentsKey'> & {
  readonly maxBodyBytes: number
}

export interface ModernLane {
  /** Serves one 2026-07-28 request already authenticated as `principal` (body already read and parsed) under `policy`, the request's snapshot. */
  serve(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal, policy: Policy): Promise<void>
  /** Aborts in-flight 2026-07-28 exchanges. */
  close(): Promise<void>
}

/** `req` as the SDK's adapter types it (its optional fields are exact; node's are `| undefined`). */
function nodeRequestLike(req: IncomingMessage): NodeIncomingMessageLike {
  return {
    headers: req.headers,
    ...(req.method === undefined ? {} : { method: req.method }),
    ...(req.url === undefined ? {} : { url: req.url }),
    [Symbol.asyncIterator]: () => req[Symbol.asyncIterator](),
  }
}

// Loose: a client's message; only a subscriptions/listen request is picked out.
const listenRequestSchema = z.object({ method: z.literal('subscriptions/listen'), id: z.union([z.string(), z.number()]) })

interface RequestContext {
  readonly principal: Principal
  readonly policy: Policy
  readonly argumentsKey: string | undefined
}

/** No protocol session on this lane: grant time is the subject's activation, exactly as on the 2025 lane. */
const STATELESS: CallSession = { idHash: undefined }

/**
 * The 2026-07-28 lane: the SDK's strict modern entry (`legacy: 'reject'`; the 2025 lane stays in
 * the gateway's own session handling), one fresh low-level server per request built for the
 * verified principal. The SDK refuses standard headers (`MCP-Protocol-Version`, `Mcp-Method`,
 * `Mcp-Name`) that disagree with the body before the server is built.
 */
export function createModernLane(options: ModernLaneOptions): ModernLane {
  // The entry hands the factory the very Request it was given, so the verified principal travels
  // with it without widening AuthInfo or casting it back.
  const contexts = new WeakMap<Request, RequestContext>()
  const onerror = (error: Error): void => options.logError('2026-07-28 request refused or failed', error)

  const handler = createMcpHandler(
    (ctx) => {
      const context = ctx.requestInfo === undefined ? undefined : contexts.get(ctx.requestInfo)
      // Unreachable by construction; refusing beats serving an unauthenticated request.
      if (context === undefined) throw new TypeError('2026-07-28 request without a verified principal')
      return createSessionServer({
        ...options,
        principal: context.principal,
        policy: context.policy,
        // No notifications/cancelled on this lane (no inflight map): closing the response stream aborts the call.
        session: STATELESS,
        argumentsKey: context.argumentsKey,
      })
    },
    { legacy: 'reject', onerror, maxRequestBodySize: options.maxBodyBytes },
  )

  return {
    async serve(req, res, body, principal, policy) {
      // The gateway publishes no change notifications (tools.listChanged is false), and a listen
      // stream would outlive the token that opened it: refuse rather than hold it open.
      const listen = namesMethod(body, 'subscriptions/listen') ? listenRequestSchema.safeParse(body) : undefined
      if (listen?.success === true) {
        return sendJson(res, 200, { jsonrpc: '2.0', id: listen.data.id, error: { code: -32601, message: 'This gateway publishes no change notifications.' } })
      }
      const wrapped = wrapNonObjectArguments(body)
      const context: RequestContext = { principal, policy, argumentsKey: wrapped.key }
      const node = toNodeHandler(
        {
          fetch(request, init) {
            contexts.set(request, context)
            return handler.fetch(request, init)
          },
        },
        { onerror, maxRequestBodySize: options.maxBodyBytes },
      )
      await node(nodeRequestLike(req), res, wrapped.body)
    },
    close: () => handler.close(),
  }
}
