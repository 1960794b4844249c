import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { DEV_IDP_SCOPE } from '../sandbox/oidc/dev-idp-configuration.js'
import { startBalancer, type Balancer } from './sandbox-balancer.js'

export interface GatewayCli {
  /** Program and arguments that run `airlock`, e.g. `[node, <install>/node_modules/airlock/bin/airlock.js]`. */
  readonly argv: readonly [string, ...string[]]
  readonly cwd: string
}

/** Where replicas share what they decide with: the machine's Redis and PostgreSQL. */
export interface SandboxCluster {
  readonly replicas: number
  /** `redis://…` for state (sessions, activations, limits). */
  readonly redisUrl: string
  /** `postgres://…` for the audit trail. */
  readonly postgresUrl: string
  /** Audit table (lower-case identifier); one per sandbox run keeps runs apart. */
  readonly auditTable: string
  /** Redis key prefix; one per sandbox run. */
  readonly keyPrefix: string
}

export interface SandboxGatewaysOptions {
  readonly cli: GatewayCli
  readonly stateDir: string
  /** The public port: the gateway's own, or the balancer's in front of the replicas. */
  readonly port: number
  readonly issuer: string
  readonly policyFiles: readonly string[]
  readonly auditPath: string
  /** The AWS environment of a pod with IRSA, identical for every replica. */
  readonly env: Record<string, string>
  readonly onLog: (line: string) => void
  readonly cluster?: SandboxCluster
  /** Registers a replica's approvals page at the IdP for its redirect URL; returns the client id. */
  readonly registerApprovalsClient?: (redirectUrl: string) => Promise<string>
}

export interface SandboxReplica {
  readonly process: ChildProcess
  readonly origin: string
  readonly adminUrl: string
}

export interface SandboxGateways {
  readonly gatewayUrl: string
  readonly replicas: readonly SandboxReplica[]
  /** Present with several replicas: how many requests each one answered. */
  readonly balancer: Balancer | undefined
  close(): Promise<void>
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const address = server.address()
  await new Promise<void>((ok) => server.close(() => ok()))
  if (address === null || typeof address === 'string') throw new TypeError('no port')
  return address.port
}

/** Runs `airlock serve` as a child with exactly the environment an EKS pod with IRSA has: no AWS keys. */
function spawnGateway(cli: GatewayCli, configPath: string, env: Record<string, string>, onLog: (line: string) => void): Promise<ChildProcess> {
  const [program, ...args] = cli.argv
  const child = spawn(program, [...args, 'serve', '--config', configPath], { cwd: cli.cwd, env, stdio: ['ignore', 'inherit', 'pipe'] })
  return new Promise((resolveChild, reject) => {
    const lines = createInterface({ input: child.stderr ?? process.stdin })
    let ready = false
    lines.on('line', (line) => {
      onLog(line)
      if (!ready && line.includes('airlock is listening')) {
        ready = true
        resolveChild(child)
      }
    })
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`the gateway exited during start-up (code ${code ?? 'signal'})`))
    })
  })
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    child.once('exit', () => done())
    child.kill('SIGTERM')
  })
}

/**
 * Starts the sandbox's gateway: one process with a file audit and in-memory state, or several
 * replicas sharing Redis and a PostgreSQL audit behind a round-robin balancer on the public port.
 */
export async function startSandboxGateways(options: SandboxGatewaysOptions): Promise<SandboxGateways> {
  const { cluster } = options
  const publicOrigin = `http://127.0.0.1:${options.port}`
  const count = cluster?.replicas ?? 1
  const replicas: SandboxReplica[] = []
  let balancer: Balancer | undefined
  const close = async (): Promise<void> => {
    await balancer?.close()
    await Promise.all(replicas.map((r) => stop(r.process)))
  }
  try {
    for (let i = 0; i < count; i++) {
      const port = cluster === undefined ? options.port : await freePort()
      const adminUrl = `http://127.0.0.1:${await freePort()}`
      const configPath = join(options.stateDir, cluster === undefined ? 'gateway.json' : `gateway-${i + 1}.json`)
      const redirectUrl = `${adminUrl}/approvals/callback`
      const clientId = await options.registerApprovalsClient?.(redirectUrl)
      const config = {
        issuer: options.issuer,
        // Each replica's approvals page is its own client: sessions live in one replica's memory.
        ...(clientId === undefined ? {} : { approvals: { web: { clientId, redirectUrl } } }),
        listen: { host: '127.0.0.1', port },
        // Replicas answer for the balancer's URL: that is the resource and audience agents see.
        ...(cluster === undefined ? {} : { publicUrl: publicOrigin }),
        admin: { host: '127.0.0.1', port: Number(new URL(adminUrl).port) },
        policy: options.policyFiles,
        audit:
          cluster === undefined
            ? { path: options.auditPath, durability: 'fsync' }
            : { sink: 'postgres', url: cluster.postgresUrl, table: cluster.auditTable },
        ...(cluster === undefined ? {} : { state: { kind: 'redis', url: cluster.redisUrl, keyPrefix: cluster.keyPrefix } }),
        allowedOrigins: ['http://localhost:6274', 'http://127.0.0.1:6274'],
        // The dev IdP's scope for the gateway: OAuth clients ask for it, and their tokens carry it.
        scopesSupported: [DEV_IDP_SCOPE],
        // Everything comes from one loopback address here, and `airlock verify --gateway` sends a
        // dozen forged tokens per run: the production allowance would throttle a second run.
        unauthenticatedLimit: { burst: 200, perMinute: 600 },
      }
      await writeFile(configPath, JSON.stringify(config, null, 2))
      const name = cluster === undefined ? '' : `replica ${i + 1} `
      const child = await spawnGateway(options.cli, configPath, options.env, (line) => options.onLog(`${name}${line}`))
      replicas.push({ process: child, origin: `http://127.0.0.1:${port}`, adminUrl })
    }
    if (cluster !== undefined) {
      balancer = await startBalancer({ host: '127.0.0.1', port: options.port, backends: replicas.map((r) => r.origin) })
    }
    return { gatewayUrl: `${publicOrigin}/mcp`, replicas, balancer, close }
  } catch (error) {
    await close()
    throw error
  }
}
