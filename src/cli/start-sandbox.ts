import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, extname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { systemClock, type Clock } from '../clock.js'
import { startEksEmulator } from '../sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer } from '../sandbox/kube-api/kube-api-server.js'
import { startDevIdp, type DevIdp } from '../sandbox/oidc/start-dev-idp.js'
import { createPgliteBackend } from '../sandbox/rds-data/pglite-backend.js'
import { seedDemoDatabase } from '../sandbox/rds-data/seed-demo.js'
import { startRdsDataEmulator } from '../sandbox/rds-data/start-rds-data-emulator.js'
import { removeSandboxState, writeSandboxState } from '../sandbox/sandbox-state.js'
import { startServiceAccountIssuer } from '../sandbox/service-account-issuer.js'
import { createCredentialStore } from '../sandbox/sigv4/credential-store.js'
import { DEMO_INSTANCES } from '../sandbox/ssm/ssm-fleet.js'
import { startSsmEmulator, type SsmEmulator } from '../sandbox/ssm/start-ssm-emulator.js'
import { startStsEmulator } from '../sandbox/sts/start-sts-emulator.js'
import { createTrail, type Trail } from '../sandbox/trail.js'
import { SANDBOX } from './sandbox-topology.js'

export interface SandboxOptions {
  /** Where .airlock/ (state, audit, trail, IRSA token) lives; also the gateway child's working dir. */
  readonly cwd: string
  /** Gateway port; 0 picks a free one. */
  readonly port: number
  readonly clock?: Clock
  /** Gateway log lines (JSON), e.g. to stderr. */
  readonly onGatewayLog?: (line: string) => void
  /** How to run the `airlock` CLI for the gateway child; default: the CLI this sandbox runs from. */
  readonly gatewayCli?: GatewayCli
}

export interface GatewayCli {
  /** Program and arguments that run `airlock`, e.g. `[node, <install>/node_modules/airlock/bin/airlock.js]`. */
  readonly argv: readonly [string, ...string[]]
  readonly cwd: string
}

export interface Sandbox {
  readonly gatewayUrl: string
  /** The gateway's admin listener: /metrics, /healthz, /readyz. */
  readonly adminUrl: string
  readonly idp: DevIdp
  readonly trail: Trail
  readonly ssm: SsmEmulator
  readonly paths: { readonly audit: string; readonly trail: string; readonly config: string; readonly tokenFile: string }
  close(): Promise<void>
}

const HERE = fileURLToPath(import.meta.url)

/** The directory holding package.json: the checkout, whether this runs from src/ (tsx) or dist/. */
function packageRoot(): string {
  let dir = dirname(HERE)
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new TypeError(`no package.json above ${HERE}`)
    dir = parent
  }
  return dir
}

/** The CLI this module belongs to: main.ts through tsx from the sources, main.js from dist/. */
function ownCli(root: string): GatewayCli {
  const main = join(dirname(HERE), `main${extname(HERE)}`)
  return { argv: extname(HERE) === '.ts' ? [process.execPath, '--import', 'tsx', main] : [process.execPath, main], cwd: root }
}

async function freePort(): Promise<number> {
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
  const child = spawn(program, [...args, 'serve', '--config', configPath], {
    cwd: cli.cwd,
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  })
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

/**
 * Starts the whole sandbox: dev OIDC provider, IRSA service-account issuer, STS, RDS Data API
 * (PGlite), SSM (local instances), EKS and a Kubernetes API stand-in, then the gateway as a child
 * process federated to AWS by web identity only.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const clock = options.clock ?? systemClock
  const root = packageRoot()
  const stateDir = join(options.cwd, '.airlock')
  await mkdir(join(stateDir, 'irsa'), { recursive: true, mode: 0o700 })
  const paths = {
    audit: join(stateDir, 'audit.jsonl'),
    trail: join(stateDir, 'trail.jsonl'),
    config: join(stateDir, 'gateway.json'),
    tokenFile: join(stateDir, 'irsa', 'token'),
  }
  const closers: (() => Promise<void>)[] = []
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => {})
  }
  try {
    const store = createCredentialStore()
    const trail = createTrail(clock)
    await writeFile(paths.trail, '')
    // Appends are chained so the file keeps the order the emulators saw the calls in.
    let appending = Promise.resolve()
    trail.subscribe((entry) => {
      appending = appending.then(() => appendFile(paths.trail, `${JSON.stringify(entry)}\n`)).catch(() => {})
    })

    const port = options.port === 0 ? await freePort() : options.port
    const gatewayUrl = `http://127.0.0.1:${port}/mcp`
    const adminUrl = `http://127.0.0.1:${await freePort()}`
    const idp = await startDevIdp({ audience: gatewayUrl })
    closers.push(() => idp.close())

    const sa = await startServiceAccountIssuer({ clock, tokenFile: paths.tokenFile, namespace: SANDBOX.namespace, serviceAccount: SANDBOX.serviceAccount })
    closers.push(() => sa.close())
    await sa.rotate()
    const sts = await startStsEmulator({
      store,
      trail,
      clock,
      accountId: SANDBOX.account,
      region: SANDBOX.region,
      oidcProviders: [{ issuer: sa.issuer, jwksUri: sa.jwksUri }],
      roles: [
        { roleArn: SANDBOX.gatewayRoleArn, trust: { issuer: sa.issuer, audience: 'sts.amazonaws.com', subjects: [sa.subject] } },
        ...SANDBOX.connectionRoleArns.map((roleArn) => ({ roleArn, trust: { principals: [SANDBOX.gatewayRoleArn], allowSourceIdentity: true } })),
      ],
    })
    closers.push(() => sts.close())

    const db = new PGlite()
    closers.push(() => db.close())
    await seedDemoDatabase(db)
    const backend = createPgliteBackend({ db })
    const rds = await startRdsDataEmulator({
      store,
      trail,
      clock,
      clusters: [{ resourceArn: SANDBOX.ordersClusterArn, secrets: { [SANDBOX.ordersSecretArn]: { backend }, [SANDBOX.ordersReadOnlySecretArn]: { backend, readOnly: true } } }],
    })
    closers.push(() => rds.close())

    const ssm = await startSsmEmulator({ store, trail, clock, instances: DEMO_INSTANCES })
    closers.push(() => ssm.close())

    const kube = await startKubeApiServer({
      store,
      clock,
      clusterName: SANDBOX.cluster,
      region: SANDBOX.region,
      mappings: [{ roleArn: SANDBOX.gatewayRoleArn, username: 'airlock-gateway', groups: ['airlock:readers'], rules: SANDBOX.kubeRules }],
    })
    closers.push(() => kube.close())
    const eks = await startEksEmulator({ store, trail, clock, clusters: [{ name: SANDBOX.cluster, region: SANDBOX.region, endpoint: kube.url, caPem: kube.caPem }] })
    closers.push(() => eks.close())

    await writeFile(
      paths.config,
      JSON.stringify(
        {
          issuer: idp.issuer,
          listen: { host: '127.0.0.1', port },
          admin: { host: '127.0.0.1', port: Number(new URL(adminUrl).port) },
          policy: [join(root, 'policies', 'demo.json')],
          audit: { path: paths.audit, durability: 'fsync' },
          allowedOrigins: ['http://localhost:6274', 'http://127.0.0.1:6274'],
        },
        null,
        2,
      ),
    )
    const gateway = await spawnGateway(
      options.gatewayCli ?? ownCli(root),
      paths.config,
      {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        AWS_REGION: SANDBOX.region,
        AWS_ROLE_ARN: SANDBOX.gatewayRoleArn,
        AWS_WEB_IDENTITY_TOKEN_FILE: paths.tokenFile,
        AWS_ROLE_SESSION_NAME: 'airlock-gateway',
        AWS_ENDPOINT_URL_STS: sts.endpoint,
        AWS_ENDPOINT_URL_RDS_DATA: rds.endpoint,
        AWS_ENDPOINT_URL_SSM: ssm.endpoint,
        AWS_ENDPOINT_URL_EKS: eks.endpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
        // The sandbox output is for people trying Airlock; `airlock serve` keeps the SDK's Node notice.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      options.onGatewayLog ?? (() => {}),
    )
    closers.push(
      () =>
        new Promise<void>((done) => {
          if (gateway.exitCode !== null) return done()
          gateway.once('exit', () => done())
          gateway.kill('SIGTERM')
        }),
    )

    await writeSandboxState(options.cwd, {
      issuer: idp.issuer,
      tokenEndpoint: idp.tokenEndpoint,
      gatewayUrl,
      clients: idp.clients.map((c) => ({ id: c.id, secret: c.secret })),
      pid: process.pid,
      startedAt: new Date(clock.now()).toISOString(),
    })
    closers.push(() => removeSandboxState(options.cwd, process.pid))
    return { gatewayUrl, adminUrl, idp, trail, ssm, paths, close }
  } catch (error) {
    await close()
    throw error
  }
}
