import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Balancer {
  readonly url: string
  /** How many requests each backend answered, by index; for tests that check requests alternate. */
  readonly served: readonly number[]
  close(): Promise<void>
}

export interface BalancerOptions {
  readonly host: string
  readonly port: number
  /** Backend origins, e.g. `http://127.0.0.1:41001`. */
  readonly backends: readonly string[]
  readonly maxBodyBytes?: number
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'])

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)))
}

/**
 * The sandbox's stand-in for a cloud load balancer: round robin over the replicas, no stickiness,
 * so an agent's consecutive requests really land on different replicas. A request goes to the next
 * replica only when the chosen one refused the connection (it never received it); once a request
 * may have reached a replica it is never sent twice.
 */
export async function startBalancer(options: BalancerOptions): Promise<Balancer> {
  const maxBodyBytes = options.maxBodyBytes ?? 2 * 1024 * 1024
  const served = options.backends.map(() => 0)
  let next = 0

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBodyBytes) chunks.push(chunk)
    })
    req.on('end', () => {
      if (size > maxBodyBytes) {
        res.writeHead(413).end()
        return
      }
      const body = Buffer.concat(chunks)
      const attempt = (tries: number): void => {
        const index = next++ % options.backends.length
        const target = new URL(req.url ?? '/', options.backends[index])
        const upstream = request(target, { method: req.method, headers: forwardable(req.headers) }, (answer) => {
          served[index] = (served[index] ?? 0) + 1
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, forwardable(answer.headers))
          // A replica dying mid-answer cuts the client's response too, rather than leaving it waiting.
          answer.once('aborted', () => res.destroy())
          answer.once('error', () => res.destroy())
          answer.pipe(res)
        })
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNREFUSED' && tries + 1 < options.backends.length) return attempt(tries + 1)
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n')
          else res.destroy()
        })
        // The client walking away closes the upstream request too (that is how calls get cancelled).
        res.once('close', () => {
          if (!res.writableFinished) upstream.destroy()
        })
        upstream.end(body)
      }
      attempt(0)
    })
  })
  await new Promise<void>((ok) => server.listen(options.port, options.host, ok))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${options.host}:${port}`,
    served,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}
