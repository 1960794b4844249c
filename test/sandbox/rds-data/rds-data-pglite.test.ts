import assert from 'node:assert/strict'
import { it } from 'node:test'
import { ExecuteStatementCommand } from '@aws-sdk/client-rds-data'
import { PGlite } from '@electric-sql/pglite'
import { createPgliteBackend } from '../../../src/sandbox/rds-data/pglite-backend.js'
import { DEMO_CUSTOMER_COUNT, DEMO_INCIDENT_FAILED_ORDERS, DEMO_INCIDENT_PAID_ORDERS, DEMO_ORDER_COUNT, demoCustomers, seedDemoDatabase } from '../../../src/sandbox/rds-data/seed-demo.js'
import { CLUSTER_ARN, SECRET_ARN } from './rds-data-harness.js'
import { PG_PARAMS, PG_PARAMS_EXPECTED, PG_PARAMS_SQL, PG_TYPES_EXPECTED, PG_TYPES_SQL } from './pg-type-cases.js'
import { defineRdsDataSuite } from './rds-data-suite.js'

const db = new PGlite()

defineRdsDataSuite(
  {
    name: 'pglite',
    async backend() {
      await db.waitReady
      return { backend: createPgliteBackend({ db }), cleanup: () => db.close() }
    },
    tableColumns: 'id integer PRIMARY KEY, name text, amount numeric(10,2)',
    readOnlyError: /read-only transaction/,
    missingTableError: /relation "rdsd_no_such_table" does not exist/,
    concurrentSessions: false,
  },
  (h) => {
    const send = (sql: string, parameters?: typeof PG_PARAMS) =>
      h().client().send(new ExecuteStatementCommand({ resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, sql, ...(parameters ? { parameters } : {}) }))

    it('round-trips every PostgreSQL type the service maps', async () => {
      assert.deepEqual((await send(PG_TYPES_SQL)).records, [PG_TYPES_EXPECTED])
      assert.deepEqual((await send(PG_PARAMS_SQL, PG_PARAMS)).records, [PG_PARAMS_EXPECTED])
    })

    it('seeds the demo schema deterministically and only once', async () => {
      await seedDemoDatabase(db)
      await seedDemoDatabase(db)
      const counts = await send('SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)')
      assert.deepEqual(counts.records, [[{ longValue: DEMO_CUSTOMER_COUNT }, { longValue: DEMO_ORDER_COUNT + DEMO_INCIDENT_PAID_ORDERS + DEMO_INCIDENT_FAILED_ORDERS }]])
      const first = await send('SELECT name, email, total FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.id LIMIT 1')
      const expected = demoCustomers()[0]
      assert.equal(first.records?.[0]?.[0]?.stringValue, expected?.name)
      assert.match(first.records?.[0]?.[1]?.stringValue ?? '', /^[a-z.]+\d+@example\.com$/)
      assert.match(first.records?.[0]?.[2]?.stringValue ?? '', /^\d+\.\d{2}$/)
    })
  },
)
