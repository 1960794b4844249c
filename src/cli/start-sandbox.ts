import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { systemClock, type Clock } from '../clock.js'
import { startEksEmulator } from '../sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer } from '../sandbox/kube-api/kube-api-server.js'
import { registerWebClient } from '../sandbox/oidc/register-web-client.js'
import { startDevIdp, type DevIdp } from '../sandbox/oidc/start-dev-idp.js'
import { createPgliteBackend } from '../sandbox/rds-data/pglite-backend.js'
import { seedDemoDatabase } from '../sandbox/rds-data/seed-demo.js'
import { startRdsDataEmulator } from '../sandbox/rds-data/start-rds-data-emulator.js'
import { removeSandboxState, writeSandboxState } from '../sandbox/sandbox-state.js'
import { startServiceAccountIssuer } from '../sandbox/service-account-issuer.js'
import { createCredentialStore } from '../sandbox/sigv4/credential-store.js'
import { DEMO_INSTANCES } from '../sandbox/ssm/ssm-fleet.js'
import { startSsmEmulator, type SsmEmulator } from '../sandbox/ssm/start-ssm-emulator.js'
import { createDemoFixtures } from '../sandbox/kube-api/kube-fixtures.js'
import { startStsEmulator } from '../sandbox/sts/start-sts-emulator.js'
import { createTrail, type Trail } from '../sandbox/trail.js'
import type { Balancer } from './sandbox-balancer.js'
import { freePort, startSandboxGateways, type GatewayCli, type SandboxCluster, type SandboxReplica } from './sandbox-gateways.js'
import { packageRoot } from './package-info.js'
import { acquireSandboxLock, assertPortFree } from './sandbox-lock.js'
import { SANDBOX } from './sandbox-topology.js'
import { readPolicyFiles } from './policy-files.js'
import { buildPolicy } from '../policy/build-policy.js'
import { allToolScopes } from '../policy/check-tool-scopes.js'

export type { GatewayCli, SandboxCluster } from './sandbox-gateways.js'

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
  /** Several replicas on the machine's Redis and PostgreSQL behind a balancer; default one gateway. */
  readonly cluster?: SandboxCluster
  /** Policy files; default policies/demo.json. */
  readonly policyFiles?: readonly string[]
}

export interface Sandbox {
  readonly gatewayUrl: string
  /** The gateway's admin listener: /metrics, /healthz, /readyz, the approvals API and page (/approvals). */
  readonly adminUrl: string
  readonly idp: DevIdp
  readonly trail: Trail
  readonly ssm: SsmEmulator
  readonly paths: { readonly audit: string; readonly trail: string; readonly config: string; readonly tokenFile: string }
  /** The gateway processes: one, or each replica behind the balancer. */
  readonly replicas: readonly SandboxReplica[]
  readonly balancer: Balancer | undefined
  readonly cluster: SandboxCluster | undefined
  close(): Promise<void>
}

const HERE = fileURLToPath(import.meta.url)

/** The CLI this module belongs to: main.ts through tsx from the sources, main.js from dist/. */
function ownCli(root: string): GatewayCli {
  const main = join(dirname(HERE), `main${extname(HERE)}`)
  return { argv: extname(HERE) === '.ts' ? [process.execPath, '--import', 'tsx', main] : [process.execPath, main], cwd: root }
}

/**
 * The scopes the policy's `toolScopes` name, which the dev IdP then grants on request (the gateway
 * advertises them). An invalid policy gives none here: the gateway refuses it at start anyway.
 */
async function policyToolScopes(paths: readonly string[]): Promise<string[]> {
  const built = buildPolicy((await readPolicyFiles(paths)).documents)
  return built.ok ? allToolScopes(built.policy) : []
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
  // Nothing in .airlock/ is written before this directory and the port are known to be free.
  const lock = await acquireSandboxLock(options.cwd, stateDir)
  try {
    await assertPortFree(options.port)
  } catch (error) {
    await lock.release()
    throw error
  }
  const paths = {
    audit: join(stateDir, 'audit.jsonl'),
    trail: join(stateDir, 'trail.jsonl'),
    config: join(stateDir, 'gateway.json'),
    tokenFile: join(stateDir, 'irsa', 'token'),
  }
  const closers: (() => Promise<void>)[] = [() => lock.release()]
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => {})
  }
  try {
    await mkdir(join(stateDir, 'irsa'), { recursive: true, mode: 0o700 })
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
    const policyFiles = options.policyFiles ?? [join(root, 'policies', 'demo.json')]
    const idp = await startDevIdp({ audience: gatewayUrl, scopes: await policyToolScopes(policyFiles) })
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
    // One instant for the demo incident, so the database, the instances' logs and the cluster agree to the second.
    const incidentNow = clock.now()
    await seedDemoDatabase(db, { now: incidentNow })
    const backend = createPgliteBackend({ db })
    const rds = await startRdsDataEmulator({
      store,
      trail,
      clock,
      clusters: [{ resourceArn: SANDBOX.ordersClusterArn, secrets: { [SANDBOX.ordersSecretArn]: { backend }, [SANDBOX.ordersReadOnlySecretArn]: { backend, readOnly: true } } }],
    })
    closers.push(() => rds.close())

    const ssm = await startSsmEmulator({ store, trail, clock, instances: DEMO_INSTANCES, incidentNow })
    closers.push(() => ssm.close())

    const kube = await startKubeApiServer({
      store,
      clock,
      clusterName: SANDBOX.cluster,
      region: SANDBOX.region,
      mappings: [{ roleArn: SANDBOX.gatewayRoleArn, username: 'airlock-gateway', groups: ['airlock:readers'], rules: SANDBOX.kubeRules }],
      fixtures: createDemoFixtures(incidentNow),
    })
    closers.push(() => kube.close())
    const eks = await startEksEmulator({ store, trail, clock, clusters: [{ name: SANDBOX.cluster, region: SANDBOX.region, endpoint: kube.url, caPem: kube.caPem }] })
    closers.push(() => eks.close())

    const gateways = await startSandboxGateways({
      cli: options.gatewayCli ?? ownCli(root),
      stateDir,
      port,
      issuer: idp.issuer,
      policyFiles,
      auditPath: paths.audit,
      env: {
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
      onLog: options.onGatewayLog ?? (() => {}),
      registerApprovalsClient: (redirectUrl) => registerWebClient(idp.issuer, redirectUrl),
      ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
    })
    closers.push(() => gateways.close())
    const adminUrl = gateways.replicas[0]?.adminUrl ?? ''

    await writeSandboxState(options.cwd, {
      issuer: idp.issuer,
      tokenEndpoint: idp.tokenEndpoint,
      gatewayUrl,
      clients: idp.clients.map((c) => ({ id: c.id, secret: c.secret })),
      pid: process.pid,
      startedAt: new Date(clock.now()).toISOString(),
    })
    closers.push(() => removeSandboxState(options.cwd, process.pid))
    return { gatewayUrl, adminUrl, idp, trail, ssm, paths, replicas: gateways.replicas, balancer: gateways.balancer, cluster: options.cluster, close }
  } catch (error) {
    await close()
    throw error
  }
}
