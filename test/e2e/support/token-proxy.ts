import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TokenProxy {
  /** `http://127.0.0.1:<port>`: what the client is pointed at. */
  readonly origin: string
  /** Where requests go from now on (the gateway's origin). */
  setTarget(origin: string): void
  /** Requests forwarded so far, each with a token minted for it. */
  readonly forwarded: number
  close(): Promise<void>
}

export interface TokenProxyOptions {
  /** A fresh access token, really issued by the IdP the gateway trusts; called once per request. */
  readonly mint: () => Promise<string>
}

/**
 * A loopback forwarding proxy for clients that cannot send a bearer token (the conformance suite):
 * every request is forwarded as it came (method, path, body, and headers including `Host` and
 * `Origin`, so the gateway's own checks see what the client sent), with `Authorization: Bearer`
 * set to a token minted for that request. Nothing is answered in the gateway's place: the gateway
 * verifies each token and decides everything, and its answer streams back unchanged.
 */
export async function startTokenProxy(options: TokenProxyOptions): Promise<TokenProxy> {
  let target: URL | undefined
  let forwarded = 0
  const server: Server = createServer((req, res) => {
    req.pause()
    const to = target
    if (to === undefined) {
      res.writeHead(503).end()
      return
    }
    options.mint().then(
      (token) => {
        forwarded++
        const headers: IncomingHttpHeaders = { ...req.headers, authorization: `Bearer ${token}` }
        const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        })
        upstream.on('error', () => {
          if (!res.headersSent) res.writeHead(502)
          res.end()
        })
        // A client that walks away cancels the request at the gateway too.
        res.on('close', () => {
          if (!res.writableFinished) upstream.destroy()
        })
        req.pipe(upstream)
      },
      () => {
        res.writeHead(502).end()
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    setTarget(origin) {
      target = new URL(origin)
    },
    get forwarded() {
      return forwarded
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
