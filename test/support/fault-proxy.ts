import { request as httpRequest, createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * What the proxy does with one request:
 * - `pass`: forward it and relay the answer;
 * - `hang`: accept it and never answer (the emulator never sees it);
 * - `status`: answer with that HTTP status itself, never forwarding (a 5xx from a load balancer);
 * - `drop-response`: forward it, let the emulator finish it, then reset the client's connection
 *   instead of relaying the answer (the "lost response": AWS acted, the caller cannot know);
 * - `delay`: wait, then forward.
 */
export type FaultMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'drop-response' }
  | { readonly kind: 'delay'; readonly ms: number }

export const PASS: FaultMode = { kind: 'pass' }
export const HANG: FaultMode = { kind: 'hang' }
export const DROP_RESPONSE: FaultMode = { kind: 'drop-response' }
export const status = (code: number): FaultMode => ({ kind: 'status', status: code })
export const delay = (ms: number): FaultMode => ({ kind: 'delay', ms })

/** One request as the proxy saw it. */
export interface ProxiedRequest {
  /** The AWS operation: the `X-Amz-Target` suffix (awsJson, e.g. SendCommand) or the path (restJson, e.g. /Execute). */
  readonly action: string
  readonly method: string
  readonly path: string
  readonly mode: FaultMode['kind']
}

export interface FaultProxy {
  /** Base URL to give an SDK client as `endpoint`. */
  readonly url: string
  /**
   * Applies `mode` to the next `times` requests for `action` (every one when `times` is omitted),
   * after letting `skip` of them pass.
   */
  fault(action: string, mode: FaultMode, times?: number, skip?: number): void
  /** Back to passing everything through. */
  clear(): void
  requests(): readonly ProxiedRequest[]
  /** Resolves once a request for `action` has arrived (counting from `from`, an index into requests()). */
  arrived(action: string, from?: number): Promise<ProxiedRequest>
  close(): Promise<void>
}

interface Rule {
  readonly action: string
  readonly mode: FaultMode
  remaining: number
  skip: number
}

function actionOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target']
  if (typeof target === 'string' && target.includes('.')) return target.slice(target.lastIndexOf('.') + 1)
  return (req.url ?? '/').split('?')[0] ?? '/'
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks)
}

function forward(upstream: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (res) => {
        readAll(res).then((data) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: data }), reject)
      },
    )
    out.on('error', reject)
    out.end(body)
  })
}

function reset(socket: Socket): void {
  // A TCP RST, as a dropped connection looks to the client.
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
  else socket.destroy()
}

/**
 * Starts an HTTP proxy on 127.0.0.1:0 in front of an emulator (`upstream`, plain http on loopback)
 * that injects faults per request. SigV4 still verifies: the client signs the proxy's host, and the
 * proxy forwards the request bytes and headers unchanged.
 */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream)
  if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost') throw new TypeError('the fault proxy only fronts loopback emulators')
  const rules: Rule[] = []
  const seen: ProxiedRequest[] = []
  const waiters = new Set<() => void>()
  const sockets = new Set<Socket>()

  function modeFor(action: string): FaultMode {
    const rule = rules.find((r) => r.action === action && r.remaining > 0)
    if (rule === undefined) return PASS
    if (rule.skip > 0) {
      rule.skip--
      return PASS
    }
    rule.remaining--
    return rule.mode
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const action = actionOf(req)
    const mode = modeFor(action)
    const body = await readAll(req)
    seen.push({ action, method: req.method ?? '', path: req.url ?? '/', mode: mode.kind })
    for (const wake of waiters) wake()
    switch (mode.kind) {
      case 'hang':
        return
      case 'status':
        res.writeHead(mode.status, { 'content-type': 'text/plain' }).end('fault proxy\n')
        return
      case 'delay':
        await sleep(mode.ms)
        break
      default:
        break
    }
    let answer
    try {
      answer = await forward(target, req, body)
    } catch {
      reset(req.socket)
      return
    }
    if (mode.kind === 'drop-response') {
      reset(req.socket)
      return
    }
    res.writeHead(answer.status, answer.headers).end(answer.body)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => reset(req.socket))
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('the fault proxy has no TCP address')
  const { port } = address

  return {
    url: `http://127.0.0.1:${port}`,
    fault(action, mode, times = Number.POSITIVE_INFINITY, skip = 0) {
      rules.unshift({ action, mode, remaining: times, skip })
    },
    clear() {
      rules.length = 0
    },
    requests: () => [...seen],
    arrived(action, from = 0) {
      return new Promise((resolve) => {
        const check = () => {
          const hit = seen.slice(from).find((r) => r.action === action)
          if (hit === undefined) return
          waiters.delete(check)
          resolve(hit)
        }
        waiters.add(check)
        check()
      })
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
