// The Data API emulator over the real PostgreSQL as a process of its own, so a bench's own process
// CPU is the gateway side's alone (the SDK client, the tool), and the emulator's is read apart.
import { systemClock } from '../../src/clock.js'
import { createPgBackend } from '../../src/sandbox/rds-data/pg-backend.js'
import { startRdsDataEmulator } from '../../src/sandbox/rds-data/start-rds-data-emulator.js'
import { createCredentialStore } from '../../src/sandbox/sigv4/credential-store.js'
import { createTrail } from '../../src/sandbox/trail.js'
import { GATEWAY, KEY, PG_CLUSTER, PG_RO_SECRET, PG_SECRET } from '../../test/tools/support/sql-query-harness.js'
import { PG_URL } from '../../test/tools/support/sql-test-databases.js'
import { announceReady } from './answer-probes.js'

const backend = createPgBackend({ connectionString: PG_URL })
const emulator = await startRdsDataEmulator({
  store: createCredentialStore([{ ...KEY, principalArn: GATEWAY }]),
  trail: createTrail(systemClock),
  clock: systemClock,
  clusters: [{ resourceArn: PG_CLUSTER, secrets: { [PG_SECRET]: { backend }, [PG_RO_SECRET]: { backend, readOnly: true } } }],
})
process.once('SIGTERM', () => {
  void emulator
    .close()
    .then(() => backend.close())
    .then(() => process.exit(0))
})
announceReady(emulator.endpoint)
