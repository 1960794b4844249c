import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock } from '../../clock.js'
import { readBody, sendJson, startHttpServer } from '../emulator-http.js'
import type { CredentialStore, SandboxCredential } from '../sigv4/credential-store.js'
import { mapSigV4Failure } from '../sigv4/sigv4-failure.js'
import { verifySigV4 } from '../sigv4/verify-sigv4.js'
import type { Trail } from '../trail.js'

/** A cluster the emulator describes; its endpoint and CA are the Kubernetes API stand-in's. */
export interface SandboxCluster {
  readonly name: string
  readonly region: string
  readonly endpoint: string
  readonly caPem: string
  readonly account?: string
  readonly version?: string
  readonly status?: 'CREATING' | 'ACTIVE' | 'DELETING' | 'FAILED' | 'UPDATING' | 'PENDING'
}

export interface EksEmulatorOptions {
  readonly store: CredentialStore
  readonly trail: Trail
  readonly clock: Clock
  readonly clusters: readonly SandboxCluster[]
  readonly host?: string
  readonly port?: number
}

export interface EksEmulator {
  /** Base URL for an EKSClient `endpoint`. */
  readonly endpoint: string
  close(): Promise<void>
}

interface Fault {
  readonly status: number
  readonly code: string
  readonly message: string
}

const DEFAULT_ACCOUNT = '111122223333'

/**
 * Starts an EKS control-plane emulator (restJson1, SigV4-checked for service `eks`) answering
 * DescribeCluster and ListClusters for the clusters it is given, each in its own region.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html
 */
export async function startEksEmulator(options: EksEmulatorOptions): Promise<EksEmulator> {
  const createdAt = Math.floor(options.clock.now() / 1000) - 90 * 86_400

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID()
    const url = new URL(req.url ?? '/', 'http://eks.invalid')
    const parts = url.pathname.split('/').filter((p) => p !== '')
    const action = req.method === 'GET' && parts[0] === 'clusters' ? (parts.length === 1 ? 'ListClusters' : 'DescribeCluster') : 'Unknown'
    const reply = (outcome: { body: unknown } | Fault, who?: { credential: SandboxCredential; region: string }, detail?: Record<string, unknown>) => {
      const fault = 'code' in outcome ? outcome : undefined
      options.trail.record({
        service: 'eks', action, region: who?.region ?? '', accessKeyId: who?.credential.accessKeyId ?? '',
        principalArn: who?.credential.principalArn ?? '',
        ...(who?.credential.sourceIdentity === undefined ? {} : { sourceIdentity: who.credential.sourceIdentity }),
        outcome: fault?.code ?? 'ok',
        ...(detail === undefined ? {} : { detail }),
      })
      const headers = { 'x-amzn-requestid': requestId }
      if (fault !== undefined) sendJson(res, fault.status, { message: fault.message }, { ...headers, 'x-amzn-errortype': fault.code })
      else if ('body' in outcome) sendJson(res, 200, outcome.body, headers)
    }

    let body: Uint8Array
    try {
      body = await readBody(req, 64 * 1024)
    } catch {
      reply({ status: 413, code: 'InvalidRequestException', message: 'Request body too large.' })
      return
    }
    const auth = verifySigV4({ method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers: req.headers, body }, { store: options.store, service: 'eks', clock: options.clock })
    if (!auth.ok) {
      const mapped = mapSigV4Failure(auth, 'restJson')
      reply({ status: mapped.status, code: mapped.code, message: mapped.message })
      return
    }
    const who = { credential: auth.credential, region: auth.region }
    const inRegion = options.clusters.filter((c) => c.region === auth.region)

    if (action === 'DescribeCluster' && parts.length === 2) {
      const name = decodeURIComponent(parts[1] ?? '')
      const cluster = inRegion.find((c) => c.name === name)
      if (cluster === undefined) {
        reply({ status: 404, code: 'ResourceNotFoundException', message: `No cluster found for name: ${name}.` }, who, { name })
        return
      }
      reply({ body: { cluster: describe(cluster, createdAt) } }, who, { name })
      return
    }
    if (action === 'ListClusters') {
      const maxRaw = url.searchParams.get('maxResults')
      const max = maxRaw === null ? 100 : Number(maxRaw)
      const tokenRaw = url.searchParams.get('nextToken')
      const offset = tokenRaw === null ? 0 : Number(Buffer.from(tokenRaw, 'base64url').toString('utf8'))
      if (!Number.isInteger(max) || max < 1 || max > 100 || !Number.isInteger(offset) || offset < 0) {
        reply({ status: 400, code: 'InvalidParameterException', message: 'maxResults must be between 1 and 100 and nextToken must come from a previous call.' }, who)
        return
      }
      const names = inRegion.map((c) => c.name).sort()
      const page = names.slice(offset, offset + max)
      const next = offset + page.length < names.length ? Buffer.from(String(offset + page.length)).toString('base64url') : undefined
      reply({ body: { clusters: page, ...(next === undefined ? {} : { nextToken: next }) } }, who)
      return
    }
    reply({ status: 404, code: 'UnknownOperationException', message: 'The operation is not supported by the sandbox.' }, who)
  }

  const server = await startHttpServer(handle, { ...(options.host === undefined ? {} : { host: options.host }), ...(options.port === undefined ? {} : { port: options.port }) })
  return { endpoint: server.url, close: () => server.close() }
}

function describe(cluster: SandboxCluster, createdAt: number): Record<string, unknown> {
  const account = cluster.account ?? DEFAULT_ACCOUNT
  const oidcId = Buffer.from(`${account}/${cluster.region}/${cluster.name}`).toString('hex').slice(0, 32).toUpperCase()
  return {
    name: cluster.name,
    arn: `arn:aws:eks:${cluster.region}:${account}:cluster/${cluster.name}`,
    createdAt,
    version: cluster.version ?? '1.30',
    endpoint: cluster.endpoint,
    roleArn: `arn:aws:iam::${account}:role/${cluster.name}-cluster-role`,
    resourcesVpcConfig: {
      subnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
      securityGroupIds: [],
      clusterSecurityGroupId: 'sg-0a1b2c3d4e5f60003',
      vpcId: 'vpc-0a1b2c3d4e5f60004',
      endpointPublicAccess: false,
      endpointPrivateAccess: true,
      publicAccessCidrs: [],
    },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '172.20.0.0/16', ipFamily: 'ipv4' },
    logging: { clusterLogging: [{ types: ['api', 'audit', 'authenticator'], enabled: true }] },
    identity: { oidc: { issuer: `https://oidc.eks.${cluster.region}.amazonaws.com/id/${oidcId}` } },
    status: cluster.status ?? 'ACTIVE',
    certificateAuthority: { data: Buffer.from(cluster.caPem, 'utf8').toString('base64') },
    platformVersion: 'eks.8',
    tags: {},
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
  }
}
