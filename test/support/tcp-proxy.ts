/**
 * A loopback TCP proxy in front of a server we must not stop (the machine's PostgreSQL): stopping
 * the proxy is an outage (connections cut, new ones refused), starting it again on the same port
 * is the recovery, and freezing it is a hung server (connections stay open, nothing is forwarded).
 *
 *   const proxy = await startTcpProxy(5432)
 *   const url = `postgres://postgres@127.0.0.1:${proxy.port}/test`
 *   await proxy.stop(); …; await proxy.start()
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  readonly port: number
  /** Cuts every connection and stops listening: connecting is refused. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  /** Open connections stop forwarding and new ones are accepted but never connected upstream. */
  freeze(): void
  /** Forwards again (for new connections; frozen ones stay dead). */
  thaw(): void
  close(): Promise<void>
}

export async function startTcpProxy(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let frozen = false
  let server: Server | undefined
  let port = 0

  function track(socket: Socket): void {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }

  function accept(client: Socket): void {
    track(client)
    if (frozen) return // accepted, never answered
    const upstream = connect(upstreamPort, upstreamHost)
    track(upstream)
    client.on('data', (data: Buffer) => {
      if (!frozen) upstream.write(data)
    })
    upstream.on('data', (data: Buffer) => {
      if (!frozen) client.write(data)
    })
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  }

  async function listen(): Promise<void> {
    const next = createServer(accept)
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject)
        resolve()
      })
    })
    const address = next.address()
    if (address === null || typeof address === 'string') throw new TypeError('the TCP proxy has no port')
    port = address.port
    server = next
  }

  async function stop(): Promise<void> {
    const current = server
    server = undefined
    for (const socket of sockets) socket.destroy()
    if (current !== undefined) await new Promise<void>((resolve) => current.close(() => resolve()))
  }

  await listen()
  return {
    get port() {
      return port
    },
    stop,
    start: () => (server === undefined ? listen() : Promise.resolve()),
    freeze: () => {
      frozen = true
    },
    thaw: () => {
      frozen = false
    },
    close: stop,
  }
}
