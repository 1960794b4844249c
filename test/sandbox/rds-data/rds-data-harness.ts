import { RDSDataClient } from '@aws-sdk/client-rds-data'
import { systemClock, type Clock } from '../../../src/clock.js'
import { createCredentialStore, type SandboxCredential } from '../../../src/sandbox/sigv4/credential-store.js'
import { startRdsDataEmulator, type RdsDataEmulator } from '../../../src/sandbox/rds-data/start-rds-data-emulator.js'
import type { SqlBackend } from '../../../src/sandbox/rds-data/rds-data-types.js'
import { createTrail, type Trail } from '../../../src/sandbox/trail.js'

export const CLUSTER_ARN = 'arn:aws:rds:us-east-1:111122223333:cluster:demo'
export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:demo-rw-AbCdEf'
export const RO_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:demo-ro-AbCdEf'

export const CREDENTIAL: SandboxCredential = {
  accessKeyId: 'AKIARDSDATATEST0001',
  secretAccessKey: 'rds-data-test-secret',
  principalArn: 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock',
  sourceIdentity: 'alice@example.com',
}

/** Real time plus an offset the test can move (transaction expiry), within SigV4's skew window. */
export interface OffsetClock extends Clock {
  advance(ms: number): void
}

export function createOffsetClock(): OffsetClock {
  let offset = 0
  return {
    now: () => systemClock.now() + offset,
    advance: (ms) => {
      offset += ms
    },
  }
}

export interface Harness {
  readonly emulator: RdsDataEmulator
  readonly trail: Trail
  readonly clock: OffsetClock
  client(credentials?: { accessKeyId: string; secretAccessKey: string }): RDSDataClient
  close(): Promise<void>
}

export async function startHarness(backend: SqlBackend, options: { statementTimeoutMs?: number; maxResponseBytes?: number } = {}): Promise<Harness> {
  const clock = createOffsetClock()
  const trail = createTrail(clock)
  const emulator = await startRdsDataEmulator({
    store: createCredentialStore([CREDENTIAL]),
    trail,
    clock,
    clusters: [{ resourceArn: CLUSTER_ARN, secrets: { [SECRET_ARN]: { backend }, [RO_SECRET_ARN]: { backend, readOnly: true } } }],
    ...options,
  })
  const clients: RDSDataClient[] = []
  return {
    emulator,
    trail,
    clock,
    client(credentials = CREDENTIAL) {
      const c = new RDSDataClient({
        region: 'us-east-1',
        endpoint: emulator.endpoint,
        maxAttempts: 1,
        credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      })
      clients.push(c)
      return c
    },
    async close() {
      for (const c of clients) c.destroy()
      await emulator.close()
    },
  }
}

/** Asserts an SDK error's name and HTTP status; for assert.rejects. */
export function awsError(name: string, status: number, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    if (!(err instanceof Error)) throw new Error('not an Error')
    if (err.name !== name) throw new Error(`expected ${name}, got ${err.name}: ${err.message}`)
    const meta: unknown = Reflect.get(err, '$metadata')
    const statusCode: unknown = typeof meta === 'object' && meta !== null ? Reflect.get(meta, 'httpStatusCode') : undefined
    if (statusCode !== status) throw new Error(`expected status ${status}, got ${String(statusCode)}`)
    if (message !== undefined && !message.test(err.message)) throw new Error(`message ${err.message} does not match ${message}`)
    return true
  }
}
