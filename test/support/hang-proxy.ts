/**
 * A loopback HTTP fault proxy: forwards requests to `target` unchanged (Host included, so SigV4
 * still verifies), except those `hold` picks, which are read in full and never answered: a hung
 * upstream. Without a target every request is held.
 *
 *   const proxy = await startHangProxy({ target: ssm.endpoint, hold: (req, body) => body.includes('hang') })
 *   // point the gateway's awsEndpoints.ssm at proxy.endpoint; await proxy.held(1)
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'

export interface HangProxy {
  readonly endpoint: string
  /** Requests held so far. */
  readonly heldCount: number
  /** Resolves once at least `count` requests are being held. */
  held(count: number): Promise<void>
  close(): Promise<void>
}

export interface HangProxyOptions {
  readonly target?: string
  readonly hold?: (req: IncomingMessage, body: string) => boolean
}

export async function startHangProxy(options: HangProxyOptions = {}): Promise<HangProxy> {
  const hold = options.hold ?? (() => true)
  let heldCount = 0
  const waiters: { count: number; resolve: () => void }[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      if (options.target === undefined || hold(req, body.toString('utf8'))) {
        heldCount += 1
        for (const waiter of waiters.filter((w) => heldCount >= w.count)) waiter.resolve()
        return // never answered
      }
      const upstream = request(new URL(req.url ?? '/', options.target), { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      upstream.on('error', () => res.destroy())
      upstream.end(body)
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('hang proxy did not bind a TCP port')
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get heldCount() {
      return heldCount
    },
    held: (count) =>
      heldCount >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
