import assert from 'node:assert/strict'
import { it } from 'node:test'
import { ExecuteStatementCommand, type SqlParameter } from '@aws-sdk/client-rds-data'
import { createMysqlBackend } from '../../../src/sandbox/rds-data/mysql-backend.js'
import { CLUSTER_ARN, SECRET_ARN } from './rds-data-harness.js'
import { defineRdsDataSuite } from './rds-data-suite.js'

defineRdsDataSuite(
  {
    name: 'mysql',
    async backend() {
      const backend = createMysqlBackend({ uri: 'mysql://root@127.0.0.1:3306/test' })
      return { backend, cleanup: () => backend.close() }
    },
    tableColumns: 'id INT PRIMARY KEY, name VARCHAR(50), amount DECIMAL(10,2)',
    sleep: (s) => `SELECT SLEEP(${s})`,
    ownTimeout: (ms) => `SET SESSION max_statement_time = ${ms / 1000}`,
    slowUpdate: (table, s) => `UPDATE ${table} SET name = 'late' WHERE id = 1 AND SLEEP(${s}) = 0`,
    readOnlyError: /READ ONLY transaction/i,
    missingTableError: /Table 'test\.rdsd_no_such_table' doesn't exist/,
    concurrentSessions: true,
  },
  (h, table) => {
    const send = (sql: string, parameters?: SqlParameter[]) =>
      h().client().send(new ExecuteStatementCommand({ resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, sql, ...(parameters ? { parameters } : {}) }))

    it('round-trips every MySQL type the service maps, with typed parameters', async () => {
      const t = `${table}_types`
      await send(`CREATE TABLE ${t} (id INT AUTO_INCREMENT PRIMARY KEY, b BIGINT, d DOUBLE, n DECIMAL(10,3), s VARCHAR(20), f BIT(1),
        bin VARBINARY(10), nu VARCHAR(5), ts DATETIME(3), dt DATE, tm TIME, js JSON)`)
      try {
        const insert = await send(`INSERT INTO ${t} (b, d, n, s, f, bin, nu, ts, dt, tm, js) VALUES (:b, :d, :n, :s, :f, :bin, :nu, :ts, :dt, :tm, :js)`, [
          { name: 'b', value: { longValue: 9007199254740991 } },
          { name: 'd', value: { doubleValue: 1.5 } },
          { name: 'n', value: { stringValue: '12.345' }, typeHint: 'DECIMAL' },
          { name: 's', value: { stringValue: "héllo 'x'" } },
          { name: 'f', value: { booleanValue: true } },
          { name: 'bin', value: { blobValue: new Uint8Array([1, 2, 255]) } },
          { name: 'nu', value: { isNull: true } },
          { name: 'ts', value: { stringValue: '2026-01-15 12:34:56.789' }, typeHint: 'TIMESTAMP' },
          { name: 'dt', value: { stringValue: '2026-01-15' }, typeHint: 'DATE' },
          { name: 'tm', value: { stringValue: '12:34:56' }, typeHint: 'TIME' },
          { name: 'js', value: { stringValue: '{"a": 1}' }, typeHint: 'JSON' },
        ])
        assert.equal(insert.numberOfRecordsUpdated, 1)
        assert.deepEqual(insert.generatedFields, [{ longValue: 1 }])
        const out = await send(`SELECT id, b, d, n, s, f, bin, nu, ts, dt, tm, js FROM ${t}`)
        assert.deepEqual(out.records, [
          [
            { longValue: 1 },
            { longValue: 9007199254740991 },
            { doubleValue: 1.5 },
            { stringValue: '12.345' },
            { stringValue: "héllo 'x'" },
            { booleanValue: true },
            { blobValue: new Uint8Array([1, 2, 255]) },
            { isNull: true },
            { stringValue: '2026-01-15 12:34:56.789' },
            { stringValue: '2026-01-15' },
            { stringValue: '12:34:56' },
            { stringValue: '{"a": 1}' },
          ],
        ])
      } finally {
        await send(`DROP TABLE ${t}`)
      }
    })
  },
)
