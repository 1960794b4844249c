import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Clock } from '../../clock.js'
import type { CredentialStore } from '../sigv4/credential-store.js'
import { isAllowed, type KubeIdentityMapping } from './kube-authorizer.js'
import { createKubeCertificates } from './kube-certificates.js'
import { discovery } from './kube-discovery.js'
import { createDemoFixtures, type KubeFixtures } from './kube-fixtures.js'
import { handleResource, type KubeRoute } from './kube-resource-handler.js'
import { findResourceType } from './kube-resources.js'
import { forbidden, json, statusFailure, type KubeResponse } from './kube-status.js'
import { createKubeStore } from './kube-store.js'
import { createEksTokenVerifier } from './verify-eks-token.js'

export interface KubeApiServerOptions {
  readonly store: CredentialStore
  readonly clock: Clock
  readonly clusterName: string
  readonly region: string
  /** Defaults to the demo cluster (see kube-fixtures). */
  readonly fixtures?: KubeFixtures
  readonly mappings: readonly KubeIdentityMapping[]
  readonly host?: string
  readonly port?: number
}

/** One request as the stand-in saw it (never the token). */
export interface KubeRequestRecord {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly user: string | undefined
  readonly status: number
}

export interface KubeApiServer {
  readonly url: string
  readonly caPem: string
  requests(): readonly KubeRequestRecord[]
  close(): Promise<void>
}

const MAX_BODY_BYTES = 1_048_576

/**
 * Starts a Kubernetes API server stand-in over HTTPS (its own CA) that authenticates EKS tokens
 * like aws-iam-authenticator, maps the signer's role to a user and applies RBAC-like rules.
 */
export async function startKubeApiServer(options: KubeApiServerOptions): Promise<KubeApiServer> {
  const certificates = await createKubeCertificates(options.clock, options.clusterName)
  const store = createKubeStore(options.fixtures ?? createDemoFixtures(options.clock.now()))
  const verify = createEksTokenVerifier(options)
  const log: KubeRequestRecord[] = []
  const host = options.host ?? '127.0.0.1'
  let serverAddress = `${host}:443`

  async function respond(req: IncomingMessage): Promise<{ response: KubeResponse; user: string | undefined }> {
    const url = new URL(req.url ?? '/', 'https://kube.invalid')
    const authorization = req.headers.authorization ?? ''
    const bearer = /^Bearer (\S+)$/i.exec(authorization)?.[1]
    const unauthorized = { response: statusFailure(401, 'Unauthorized'), user: undefined }
    if (bearer === undefined) return unauthorized
    const identity = verify(bearer)
    if (!identity.ok) return unauthorized
    // The authenticator refuses identities aws-auth does not map: the API server sees no user at all.
    const mapping = options.mappings.find((m) => m.roleArn === identity.canonicalArn)
    if (mapping === undefined) return unauthorized
    const user = mapping.username
    const method = req.method ?? 'GET'

    const doc = method === 'GET' ? discovery(url.pathname, serverAddress) : undefined
    if (doc !== undefined) return { response: json(doc), user }

    const route = parseRoute(url.pathname)
    if (route === undefined) return { response: statusFailure(404, 'the server could not find the requested resource'), user }
    if (url.searchParams.get('watch') === 'true') return { response: statusFailure(405, 'watch is not supported by this server'), user }
    const verb = verbOf(method, route)
    const resource = route.subresource === undefined ? route.type.resource : `${route.type.resource}/${route.subresource}`
    // A namespace object is authorised in its own namespace, as RBAC does for `get namespace x`.
    const scope = route.type.resource === 'namespaces' ? route.name : route.namespace
    if (!isAllowed(mapping, { verb, resource, namespace: scope })) {
      return { response: forbidden(user, verb, resource, route.type.group, scope, route.name), user }
    }
    const raw = await readBody(req)
    if (raw === undefined) return { response: statusFailure(413, 'request entity too large'), user }
    let body: unknown
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        return { response: statusFailure(400, 'the request body is not valid JSON'), user }
      }
    }
    const contentType = req.headers['content-type'] ?? ''
    return { response: handleResource(store, { method, route, query: url.searchParams, body, contentType, now: options.clock.now() }), user }
  }

  const server: Server = createServer({ cert: certificates.certPem, key: certificates.keyPem }, (req, res) => {
    void respond(req)
      .catch(() => ({ response: statusFailure(500, 'internal error'), user: undefined }))
      .then(({ response, user }) => {
        const url = new URL(req.url ?? '/', 'https://kube.invalid')
        log.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), user, status: response.status })
        send(res, response)
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const address: AddressInfo | string | null = server.address()
  if (address === null || typeof address === 'string') throw new TypeError('server has no TCP address')
  const { port } = address
  serverAddress = `${host}:${port}`
  return {
    url: `https://${host}:${port}`,
    caPem: certificates.caPem,
    requests: () => [...log],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function parseRoute(pathname: string): KubeRoute | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent)
  let group: string
  let version: string
  let rest: string[]
  if (parts[0] === 'api' && parts[1] === 'v1') [group, version, rest] = ['', 'v1', parts.slice(2)]
  else if (parts[0] === 'apis' && parts.length >= 3) [group, version, rest] = [parts[1] ?? '', parts[2] ?? '', parts.slice(3)]
  else return undefined
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const type = findResourceType(group, version, rest[2] ?? '')
    if (type === undefined || !type.namespaced || rest.length > 5) return undefined
    return { type, namespace: rest[1], name: rest[3], subresource: rest[4] }
  }
  const type = findResourceType(group, version, rest[0] ?? '')
  if (type === undefined || rest.length > 3) return undefined
  if (type.namespaced && rest.length > 1) return undefined
  return { type, namespace: undefined, name: rest[1], subresource: rest[2] }
}

function verbOf(method: string, route: KubeRoute): string {
  switch (method) {
    case 'GET': return route.name === undefined ? 'list' : 'get'
    case 'PATCH': return 'patch'
    case 'PUT': return 'update'
    case 'DELETE': return route.name === undefined ? 'deletecollection' : 'delete'
    case 'POST': return 'create'
    default: return method.toLowerCase()
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}

function send(res: ServerResponse, response: KubeResponse): void {
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body)
  res.writeHead(response.status, {
    'content-type': response.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache, private',
    ...(response.status === 401 ? { 'www-authenticate': 'Bearer realm="kubernetes"' } : {}),
  })
  res.end(text)
}
