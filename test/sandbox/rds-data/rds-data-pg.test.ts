import assert from 'node:assert/strict'
import { it } from 'node:test'
import { ExecuteStatementCommand } from '@aws-sdk/client-rds-data'
import { createPgBackend } from '../../../src/sandbox/rds-data/pg-backend.js'
import { CLUSTER_ARN, SECRET_ARN } from './rds-data-harness.js'
import { PG_TYPES_SQL, PG_TYPES_EXPECTED, PG_PARAMS_SQL, PG_PARAMS, PG_PARAMS_EXPECTED } from './pg-type-cases.js'
import { defineRdsDataSuite } from './rds-data-suite.js'

defineRdsDataSuite(
  {
    name: 'pg',
    async backend() {
      const backend = createPgBackend({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' })
      return { backend, cleanup: () => backend.close() }
    },
    tableColumns: 'id integer PRIMARY KEY, name text, amount numeric(10,2)',
    sleep: (s) => `SELECT pg_sleep(${s})`,
    ownTimeout: (ms) => `SET LOCAL statement_timeout = ${ms}`,
    slowUpdate: (table, s) => `WITH s AS (SELECT pg_sleep(${s})) UPDATE ${table} SET name = 'late' FROM s WHERE id = 1`,
    readOnlyError: /read-only transaction/,
    missingTableError: /relation "rdsd_no_such_table" does not exist/,
    concurrentSessions: true,
  },
  (h) => {
    it('round-trips every PostgreSQL type the service maps', async () => {
      const client = h().client()
      const out = await client.send(new ExecuteStatementCommand({ resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, sql: PG_TYPES_SQL }))
      assert.deepEqual(out.records, [PG_TYPES_EXPECTED])
      const params = await client.send(new ExecuteStatementCommand({ resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, sql: PG_PARAMS_SQL, parameters: PG_PARAMS }))
      assert.deepEqual(params.records, [PG_PARAMS_EXPECTED])
    })
  },
)
