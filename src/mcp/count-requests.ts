import type { IncomingMessage, ServerResponse } from 'node:http'
import { requestOutcome, type GatewayMetrics, type RequestRoute } from '../metrics/gateway-metrics.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

function routeOf(url: string | undefined): RequestRoute {
  const path = (url ?? '/').split('?')[0] ?? '/'
  if (path === '/mcp') return 'mcp'
  if (path === '/healthz') return 'healthz'
  if (path.startsWith('/.well-known/oauth-protected-resource')) return 'metadata'
  return 'other'
}

/** Wraps the public handler so that every response, refusals included, is counted by route and outcome when it closes. */
export function countRequests(handler: Handler, metrics: GatewayMetrics): Handler {
  return function counted(req, res) {
    const route = routeOf(req.url)
    res.once('close', () => metrics.request(route, requestOutcome(res.statusCode, res.writableFinished)))
    handler(req, res)
  }
}
