/**
 * A loopback TCP proxy in front of a real server we must not stop (the machine's PostgreSQL or
 * Redis), which a test can break and mend:
 *
 *   const proxy = await startTcpProxy({ port: 6379 })  // forwards 127.0.0.1:<proxy.port> → 127.0.0.1:6379
 *   proxy.setMode('hang')      // new connections: bytes are taken and never answered
 *   proxy.setMode('slow', 500) // every answer arrives 500 ms late (in order: a slow server, not a broken one)
 *   proxy.freeze()             // a hung server: open connections stop forwarding too, new ones hang
 *   proxy.thaw()               // forwards again for new connections (frozen ones stay dead)
 *   await proxy.stop()         // an outage: the port refuses, open connections are cut
 *   await proxy.start()        // recovery: listens again on the same port
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import { systemClock } from '../../src/clock.js'

export type TcpProxyMode = 'forward' | 'hang' | 'slow'

export interface TcpProxy {
  readonly port: number
  /** `delayMs` is how late answers arrive in `slow` mode. */
  setMode(mode: TcpProxyMode, delayMs?: number): void
  freeze(): void
  thaw(): void
  /** Closes the listener and every open connection: the port refuses until `start`. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(target: { readonly host?: string; readonly port: number }): Promise<TcpProxy> {
  let mode: TcpProxyMode = 'forward'
  let delayMs = 0
  let frozen = false
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const onConnection = (client: Socket) => {
    track(client)
    if (frozen || mode === 'hang') {
      client.resume()
      return
    }
    const upstream = connect(target.port, target.host ?? '127.0.0.1')
    track(upstream)
    // Answers keep their order whatever the mode: a queue, drained as each one's time comes.
    const late: { readonly at: number; readonly chunk: Buffer }[] = []
    let draining = false
    const drain = () => {
      const head = late[0]
      if (head === undefined) {
        draining = false
        return
      }
      draining = true
      setTimeout(() => {
        late.shift()
        if (!client.destroyed && !frozen) client.write(head.chunk)
        drain()
      }, Math.max(0, head.at - systemClock.now()))
    }
    client.on('data', (chunk: Buffer) => {
      if (!frozen) upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (frozen) return
      if (mode !== 'slow' && late.length === 0) {
        client.write(chunk)
        return
      }
      late.push({ at: systemClock.now() + (mode === 'slow' ? delayMs : 0), chunk })
      if (!draining) drain()
    })
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  }

  let server: Server | undefined
  let port = 0
  async function listen(): Promise<void> {
    const next = createServer(onConnection)
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject)
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject)
        resolve()
      })
    })
    const address = next.address()
    if (address === null || typeof address === 'string') throw new TypeError('the TCP proxy did not bind a TCP port')
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
    setMode: (next, ms = 0) => {
      mode = next
      delayMs = ms
    },
    freeze: () => {
      frozen = true
    },
    thaw: () => {
      frozen = false
    },
    stop,
    start: () => (server === undefined ? listen() : Promise.resolve()),
    close: stop,
  }
}
