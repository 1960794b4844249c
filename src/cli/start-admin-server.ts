import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdminHandler, type AdminHandlerOptions } from '../admin/admin-handler.js'

export interface AdminServer {
  /** e.g. http://127.0.0.1:9464 */
  readonly origin: string
  /** Stops listening and ends open (keep-alive) connections. */
  close(): Promise<void>
}

/** Listens for `/metrics`, `/healthz` and `/readyz` on `host:port` (port 0 picks one). */
export async function startAdminServer(host: string, port: number, options: AdminHandlerOptions): Promise<AdminServer> {
  const server = createServer(createAdminHandler(options))
  // Probes and scrapes are short; do not let an idle scraper hold the process at shutdown.
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    origin: `http://${shown}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}
