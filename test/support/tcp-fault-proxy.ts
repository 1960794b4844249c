/**
 * A loopback TCP proxy in front of a real server (Redis) that a test can break and mend:
 *
 *   const proxy = await startTcpProxy({ port: 6379 })   // forwards 127.0.0.1:<proxy.port> → 127.0.0.1:6379
 *   proxy.setMode('hang')      // new connections: bytes are taken and never answered
 *   proxy.setMode('slow', 500) // every answer arrives 500 ms late (in order: a slow server, not a broken one)
 *   await proxy.stop()         // refuse connections (port closed), cut the open ones
 *   await proxy.start()        // listen again on the same port, forwarding
 *   await proxy.close()
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import { systemClock } from '../../src/clock.js'

export type TcpProxyMode = 'forward' | 'hang' | 'slow'

export interface TcpProxy {
  readonly port: number
  /** `delayMs` is how late answers arrive in `slow` mode. */
  setMode(mode: TcpProxyMode, delayMs?: number): void
  /** Closes the listener and every open connection: the port refuses until `start`. */
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(target: { readonly host?: string; readonly port: number }): Promise<TcpProxy> {
  let mode: TcpProxyMode = 'forward'
  let delayMs = 0
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const onConnection = (client: Socket) => {
    track(client)
    if (mode === 'hang') {
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
        if (!client.destroyed) client.write(head.chunk)
        drain()
      }, Math.max(0, head.at - systemClock.now()))
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk))
    upstream.on('data', (chunk: Buffer) => {
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
  let server: Server = createServer(onConnection)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('tcp proxy did not bind a TCP port')
  const port = address.port
  let listening = true

  async function stop(): Promise<void> {
    if (!listening) return
    listening = false
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  return {
    port,
    setMode: (next, ms = 0) => {
      mode = next
      delayMs = ms
    },
    stop,
    async start() {
      if (listening) return
      server = createServer(onConnection)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => resolve())
      })
      listening = true
    },
    close: stop,
  }
}
