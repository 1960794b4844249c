import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ReadinessReport } from '../readiness-check.js'
import { createApprovalRoutes, type ApprovalRoutesOptions } from './approval-routes.js'
import { createApprovalsWeb, type ApprovalsWebOptions } from './approvals-web/approvals-web.js'

export interface AdminHandlerOptions {
  /** The Prometheus exposition of this gateway's registry. */
  readonly scrape: () => Promise<{ readonly contentType: string; readonly text: string }>
  /** The named readiness checks, run on each `/readyz`. */
  readonly readiness: () => Promise<ReadinessReport>
  readonly logError: (message: string, error: unknown) => void
  /** The approvers' API (see createApprovalRoutes); absent, those paths are 404. */
  readonly approvals?: ApprovalRoutesOptions
  /** The approvers' web page at `/approvals` (see createApprovalsWeb); absent, 404. */
  readonly approvalsWeb?: ApprovalsWebOptions
}

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)) })
  res.end(head ? undefined : body)
}

function sendJson(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  send(res, status, 'application/json', JSON.stringify(body), head)
}

/**
 * The admin listener's routes (not the public one's): `/metrics` (Prometheus text), `/healthz`
 * (the process answers: liveness) and `/readyz` (200 when every check passes, 503 with each
 * check's fixed reason code otherwise). GET and HEAD only; read-only and without credentials, so
 * bind it where only the kubelet and the scraper reach it. With `approvals`, also the approvers'
 * API under `/approvals/` (bearer tokens, see createApprovalRoutes), and with `approvalsWeb` the
 * approvers' page at `/approvals`. The page lives here, not on the MCP listener: it sits beside
 * the API it mirrors, and a cookie session never exists on the origin agents call, so /mcp stays
 * bearer-only. Expose this listener's `/approvals` to reviewers' browsers (e.g. an internal
 * ingress path), never `/metrics` to the internet.
 */
export function createAdminHandler(options: AdminHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  async function route(req: IncomingMessage, res: ServerResponse, path: string, head: boolean): Promise<void> {
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' }, head)
    if (path === '/readyz') {
      const report = await options.readiness()
      return sendJson(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not_ready', checks: report.checks }, head)
    }
    if (path === '/metrics') {
      const { contentType, text } = await options.scrape()
      return send(res, 200, contentType, text, head)
    }
    return sendJson(res, 404, { error: 'not_found' }, head)
  }

  const api = options.approvals === undefined ? undefined : createApprovalRoutes(options.approvals)
  const web = options.approvalsWeb === undefined ? undefined : createApprovalsWeb(options.approvalsWeb)
  async function approvals(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (web !== undefined && (await web(req, res, path))) return true
    return api !== undefined && (await api(req, res, path))
  }

  return function admin(req, res) {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    if ((api !== undefined || web !== undefined) && (path === '/approvals' || path.startsWith('/approvals/'))) {
      approvals(req, res, path)
        .then((handled) => {
          if (!handled) sendJson(res, 404, { error: 'not_found' }, false)
        })
        .catch((error: unknown) => {
          options.logError(`admin ${path} failed`, error)
          if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' }, false)
          else res.end()
        })
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return sendJson(res, 405, { error: 'method_not_allowed' }, false)
    }
    route(req, res, path, req.method === 'HEAD').catch((error: unknown) => {
      options.logError(`admin ${path} failed`, error)
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error' }, false)
      else res.end()
    })
  }
}
