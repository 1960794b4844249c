// The backends every tool of bench/index.ts reaches (Data API emulator over PostgreSQL, EKS emulator
// with the Kubernetes API stand-in, SSM emulator), one policy granting them all, and the calls.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { systemClock } from '../../src/clock.js'
import { startEksEmulator } from '../../src/sandbox/eks/start-eks-emulator.js'
import { startKubeApiServer } from '../../src/sandbox/kube-api/kube-api-server.js'
import { createPgBackend } from '../../src/sandbox/rds-data/pg-backend.js'
import { startRdsDataEmulator } from '../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { startSsmEmulator } from '../../src/sandbox/ssm/start-ssm-emulator.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { GATEWAY_MAPPING, GATEWAY as KUBE_GATEWAY } from '../../test/sandbox/kube-api/kube-harness.js'
import { PG_CLUSTER, PG_RO_SECRET, PG_SECRET } from '../../test/tools/support/sql-query-harness.js'
import { PG_URL } from '../../test/tools/support/sql-test-databases.js'

/** One measured call: a tool and its arguments (per worker). */
export interface Scenario {
  readonly name: string
  readonly tool: string
  readonly args: (worker: number) => Record<string, unknown>
}

export interface ToolBackends {
  readonly policy: unknown
  readonly awsEndpoints: { readonly rdsData: string; readonly eks: string; readonly ssm: string }
  readonly awsKey: { readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly scenarios: readonly Scenario[]
  close(): Promise<void>
}

const ROWS = 250

/** Starts every emulator in this process (the load generator's), with a scratch PostgreSQL table of {@link ROWS} rows. */
export async function startToolBackends(maxWorkers: number): Promise<ToolBackends> {
  const table = `airlock_bench_${randomBytes(4).toString('hex')}`
  const db = new pg.Client({ connectionString: PG_URL })
  await db.connect()
  await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, owner text NOT NULL, email text, balance numeric(12,2), active boolean)`)
  await db.query(`INSERT INTO ${table} SELECT i, 'owner-' || i, 'user' || i || '@example.com', i * 1.5, i % 2 = 0 FROM generate_series(1, ${ROWS}) AS i`)

  // One gateway identity for every emulator: the one the Kubernetes stand-in maps to the gateway role.
  const store = createCredentialStore([KUBE_GATEWAY])
  const trail = createTrail(systemClock)
  const backend = createPgBackend({ connectionString: PG_URL, poolConfig: { max: 40 } })
  const rds = await startRdsDataEmulator({
    store,
    trail,
    clock: systemClock,
    clusters: [{ resourceArn: PG_CLUSTER, secrets: { [PG_SECRET]: { backend }, [PG_RO_SECRET]: { backend, readOnly: true } } }],
  })
  const kube = await startKubeApiServer({ store, clock: systemClock, clusterName: 'demo', region: 'us-east-1', mappings: [GATEWAY_MAPPING] })
  const eks = await startEksEmulator({ store, trail, clock: systemClock, clusters: [{ name: 'demo', region: 'us-east-1', endpoint: kube.url, caPem: kube.caPem }] })
  // A connection lists at most 50 instances; workers beyond share them.
  const instanceIds = Array.from({ length: Math.min(maxWorkers, 32) }, (_, w) => `i-0be${(w + 1).toString(16).padStart(14, '0')}`)
  const ssm = await startSsmEmulator({
    store,
    trail,
    clock: systemClock,
    instances: instanceIds.map((instanceId, w) => ({ instanceId, name: `bench-${w}`, tags: { role: 'bench' } })),
    deliveryDelayMs: 5,
  })

  const policy = {
    version: 1,
    connections: {
      'bench-db': { kind: 'rds-data', region: 'eu-west-1', engine: 'postgres', database: 'test', resourceArn: PG_CLUSTER, secretArn: PG_SECRET, readOnlySecretArn: PG_RO_SECRET },
      'bench-cluster': { kind: 'eks', region: 'us-east-1', cluster: 'demo' },
      'bench-fleet': { kind: 'ssm', region: 'eu-west-1', instanceIds },
    },
    grants: [
      { id: 'bench-whoami', groups: ['bench'], tools: ['whoami'], ttl: '12h' },
      { id: 'bench-sql', groups: ['bench'], connections: ['bench-db'], tools: ['sql_query'], ttl: '12h', sql: { mode: 'read-only', maxRows: 200 } },
      { id: 'bench-k8s', groups: ['bench'], connections: ['bench-cluster'], tools: ['kubectl'], ttl: '12h', kubectl: { verbs: ['list'], resources: ['pods'], namespaces: ['shop'] } },
      { id: 'bench-ssm', groups: ['bench'], connections: ['bench-fleet'], tools: ['ssm_run'], ttl: '12h', ssm: { commands: [['uptime']], timeoutSeconds: 30 } },
    ],
  }
  const scenarios: Scenario[] = [
    { name: 'whoami', tool: 'whoami', args: () => ({}) },
    { name: 'sql_query point', tool: 'sql_query', args: (w) => ({ connection: 'bench-db', sql: `SELECT id, owner, email, balance, active FROM ${table} WHERE id = :id`, parameters: { id: (w % ROWS) + 1 } }) },
    { name: 'sql_query 200 rows', tool: 'sql_query', args: () => ({ connection: 'bench-db', sql: `SELECT id, owner, email, balance, active FROM ${table} ORDER BY id LIMIT 200` }) },
    { name: 'kubectl list pods', tool: 'kubectl', args: () => ({ connection: 'bench-cluster', verb: 'list', resource: 'pods', namespace: 'shop' }) },
    { name: 'ssm_run uptime', tool: 'ssm_run', args: (w) => ({ connection: 'bench-fleet', instance: instanceIds[w % instanceIds.length] ?? '', command: 'uptime' }) },
  ]
  return {
    policy,
    awsEndpoints: { rdsData: rds.endpoint, eks: eks.endpoint, ssm: ssm.endpoint },
    awsKey: { accessKeyId: KUBE_GATEWAY.accessKeyId, secretAccessKey: KUBE_GATEWAY.secretAccessKey },
    scenarios,
    async close() {
      await ssm.close()
      await eks.close()
      await kube.close()
      await rds.close()
      await backend.close()
      await db.query(`DROP TABLE IF EXISTS ${table}`)
      await db.end()
    },
  }
}
