import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { InputError } from '../errors.js'

/** Default cap on request bodies an emulator will buffer. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

/**
 * Buffers a request body, refusing more than `maxBytes`.
 * @throws InputError INPUT_INVALID when the body is larger than the cap.
 */
export async function readBody(req: IncomingMessage, maxBytes: number = DEFAULT_MAX_BODY_BYTES): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    total += buf.length
    if (total > maxBytes) {
      req.resume()
      throw new InputError('INPUT_INVALID', `request body exceeds ${maxBytes} bytes`)
    }
    chunks.push(buf)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

/** Sends `body` as JSON with an explicit content type and length. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
  contentType = 'application/json',
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

/** Sends a text payload (XML for awsQuery, plain text) with the given content type. */
export function sendText(res: ServerResponse, status: number, text: string, contentType: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export type EmulatorHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void

export interface StartedHttpServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Listens on `host:port` (0 picks a free port) and resolves with the bound port. */
export async function listenOn(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('server has no TCP address')
  return (address satisfies AddressInfo).port
}

/**
 * Starts an HTTP server on 127.0.0.1 (port 0 unless told otherwise). A handler that throws gets
 * a bare 500 so no internal message reaches the client.
 */
export async function startHttpServer(
  handler: EmulatorHandler,
  options: { readonly host?: string; readonly port?: number } = {},
): Promise<StartedHttpServer> {
  const server = createServer((req, res) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch(() => {
        if (!res.headersSent) sendJson(res, 500, { message: 'Internal failure' })
        else res.destroy()
      })
  })
  // AWS endpoints keep an idle connection for about a minute; Node's 5 s default would race the
  // SDK's reuse of a pooled socket, and a request lost in that race is, rightly, never retried.
  server.keepAliveTimeout = 55_000
  const host = options.host ?? '127.0.0.1'
  const port = await listenOn(server, host, options.port ?? 0)
  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}
