import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import {
  BatchExecuteStatementCommand,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RollbackTransactionCommand,
  type ExecuteStatementCommandInput,
  type SqlParameter,
} from '@aws-sdk/client-rds-data'
import type { SqlBackend } from '../../../src/sandbox/rds-data/rds-data-types.js'
import { CLUSTER_ARN, CREDENTIAL, RO_SECRET_ARN, SECRET_ARN, awsError, startHarness, type Harness } from './rds-data-harness.js'
import { createTeardown } from '../../support/teardown.js'

export interface EngineSuite {
  readonly name: string
  backend(): Promise<{ backend: SqlBackend; cleanup(): Promise<void> }>
  /** Column types for (id, name, amount). */
  readonly tableColumns: string
  /** A statement that sleeps about `seconds`; undefined when the engine cannot be interrupted. */
  readonly sleep?: (seconds: number) => string
  /** The statement a caller runs in its transaction to limit its own statements to `ms`. */
  readonly ownTimeout?: (ms: number) => string
  /** An UPDATE of table row 1 setting name = 'late' after sleeping. */
  readonly slowUpdate?: (table: string, seconds: number) => string
  readonly readOnlyError: RegExp
  readonly missingTableError: RegExp
  /** Calls outside a transaction can see the database while one is open. */
  readonly concurrentSessions: boolean
  readonly timeoutMs?: number
}

/** The Data API behaviours every backing engine must show through the real RDSDataClient. */
export function defineRdsDataSuite(suite: EngineSuite, extra?: (h: () => Harness, table: string) => void): void {
  const table = `rdsd_${suite.name}_${randomBytes(4).toString('hex')}`
  let h: Harness
  let cleanup: () => Promise<void>
  const base = { resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN }
  const exec = (input: Omit<ExecuteStatementCommandInput, 'resourceArn' | 'secretArn'> & { resourceArn?: string; secretArn?: string }) =>
    h.client().send(new ExecuteStatementCommand({ ...base, ...input }))
  const long = (name: string, v: number): SqlParameter => ({ name, value: { longValue: v } })
  const str = (name: string, v: string): SqlParameter => ({ name, value: { stringValue: v } })
  const count = async (where = '1=1') => {
    const r = await exec({ sql: `SELECT count(*) FROM ${table} WHERE ${where}` })
    return r.records?.[0]?.[0]?.longValue
  }

  describe(`RDS Data API emulator on ${suite.name}`, () => {
    const teardown = createTeardown()
    before(async () => {
      const b = await suite.backend()
      cleanup = b.cleanup
      teardown.add(() => cleanup())
      h = await startHarness(b.backend, { statementTimeoutMs: suite.timeoutMs ?? 400, maxResponseBytes: 64 * 1024 })
      teardown.add(() => h.close())
      await exec({ sql: `CREATE TABLE ${table} (${suite.tableColumns})` })
      teardown.add(() => exec({ sql: `DROP TABLE ${table}` }).catch(() => undefined))
    })
    after(() => teardown.run())

    if (suite.name !== 'mysql') {
      it('resets session state after a call outside a transaction', async () => {
        await exec({ sql: "SET application_name = 'left-behind'" })
        const shown = await exec({ sql: 'SHOW application_name' })
        assert.notEqual(shown.records?.[0]?.[0]?.stringValue, 'left-behind')
      })
    }

    it('inserts with typed parameters and reports numberOfRecordsUpdated', async () => {
      const out = await exec({
        sql: `INSERT INTO ${table} (id, name, amount) VALUES (:id, :name, :amount)`,
        parameters: [long('id', 1), str('name', "O'Brien :notaparam"), { name: 'amount', value: { stringValue: '12.34' }, typeHint: 'DECIMAL' }],
      })
      assert.equal(out.numberOfRecordsUpdated, 1)
      assert.equal(out.records, undefined)
      await exec({ sql: `INSERT INTO ${table} (id, name, amount) VALUES (2, 'b', 0.5), (3, 'c', 100)` })
    })

    it('returns records as Field unions, columnMetadata only when asked', async () => {
      const sql = `SELECT id, name, amount FROM ${table} WHERE id = :id`
      const plain = await exec({ sql, parameters: [long('id', 1)] })
      assert.deepEqual(plain.records, [[{ longValue: 1 }, { stringValue: "O'Brien :notaparam" }, { stringValue: '12.34' }]])
      assert.equal(plain.columnMetadata, undefined)
      assert.equal(plain.numberOfRecordsUpdated, 0)
      const meta = await exec({ sql, parameters: [long('id', 1)], includeResultMetadata: true })
      assert.deepEqual(meta.columnMetadata?.map((c) => c.name), ['id', 'name', 'amount'])
      assert.ok(meta.columnMetadata?.every((c) => typeof c.typeName === 'string' && typeof c.type === 'number'), "meta.columnMetadata?.every((c) => typeof c.typeName === 'string' && typeof c.type === 'number')")
    })

    it('formats records as JSON and applies resultSetOptions', async () => {
      const out = await exec({ sql: `SELECT id, name, amount FROM ${table} WHERE id IN (1, 2) ORDER BY id`, formatRecordsAs: 'JSON', includeResultMetadata: true })
      assert.equal(out.records, undefined)
      assert.equal(out.columnMetadata, undefined)
      assert.deepEqual(JSON.parse(out.formattedRecords ?? ''), [
        { id: 1, name: "O'Brien :notaparam", amount: '12.34' },
        { id: 2, name: 'b', amount: '0.50' },
      ])
      const opts = await exec({
        sql: `SELECT id, amount FROM ${table} WHERE id IN (1, 3) ORDER BY id`,
        resultSetOptions: { decimalReturnType: 'DOUBLE_OR_LONG', longReturnType: 'STRING' },
      })
      assert.deepEqual(opts.records, [
        [{ stringValue: '1' }, { doubleValue: 12.34 }],
        [{ stringValue: '3' }, { doubleValue: 100 }],
      ])
    })

    it('counts rows touched by UPDATE and DELETE', async () => {
      const up = await exec({ sql: `UPDATE ${table} SET name = name WHERE id >= :min`, parameters: [long('min', 2)] })
      assert.equal(up.numberOfRecordsUpdated, 2)
      const del = await exec({ sql: `DELETE FROM ${table} WHERE id = 999` })
      assert.equal(del.numberOfRecordsUpdated, 0)
    })

    it('commits a transaction', async () => {
      const { transactionId } = await h.client().send(new BeginTransactionCommand(base))
      assert.ok(transactionId, 'transactionId')
      await exec({ sql: `INSERT INTO ${table} (id, name, amount) VALUES (10, 'tx', 1)`, transactionId })
      const inside = await exec({ sql: `SELECT count(*) FROM ${table} WHERE id = 10`, transactionId })
      assert.equal(inside.records?.[0]?.[0]?.longValue, 1)
      if (suite.concurrentSessions) assert.equal(await count('id = 10'), 0)
      const done = await h.client().send(new CommitTransactionCommand({ ...base, transactionId }))
      assert.equal(done.transactionStatus, 'Transaction Committed')
      assert.equal(await count('id = 10'), 1)
      await assert.rejects(
        h.client().send(new CommitTransactionCommand({ ...base, transactionId })),
        awsError('TransactionNotFoundException', 404),
      )
    })

    it('rolls a transaction back', async () => {
      const { transactionId } = await h.client().send(new BeginTransactionCommand(base))
      await exec({ sql: `INSERT INTO ${table} (id, name, amount) VALUES (11, 'tx', 1)`, transactionId })
      const done = await h.client().send(new RollbackTransactionCommand({ ...base, transactionId }))
      assert.equal(done.transactionStatus, 'Rollback Complete')
      assert.equal(await count('id = 11'), 0)
    })

    it('expires a transaction idle for more than three minutes and rolls it back', async () => {
      const { transactionId } = await h.client().send(new BeginTransactionCommand(base))
      await exec({ sql: `INSERT INTO ${table} (id, name, amount) VALUES (12, 'tx', 1)`, transactionId })
      h.clock.advance(3 * 60_000 + 1000)
      await assert.rejects(
        exec({ sql: `SELECT 1`, transactionId }),
        awsError('TransactionNotFoundException', 404, /is not found/),
      )
      assert.equal(await count('id = 12'), 0)
    })

    it('refuses unknown transaction ids and ids used with another secret', async () => {
      await assert.rejects(exec({ sql: 'SELECT 1', transactionId: 'bm90LWEtdHJhbnNhY3Rpb24=' }), awsError('TransactionNotFoundException', 404))
      const { transactionId } = await h.client().send(new BeginTransactionCommand(base))
      await assert.rejects(exec({ sql: 'SELECT 1', transactionId, secretArn: RO_SECRET_ARN }), awsError('TransactionNotFoundException', 404))
      await h.client().send(new RollbackTransactionCommand({ ...base, transactionId }))
    })

    it("returns the database's error as DatabaseErrorException", async () => {
      await assert.rejects(exec({ sql: 'SELECT * FROM rdsd_no_such_table' }), awsError('DatabaseErrorException', 400, suite.missingTableError))
      await assert.rejects(exec({ sql: 'SELEC 1' }), awsError('DatabaseErrorException', 400))
      // One statement per call, as the service allows.
      await assert.rejects(exec({ sql: `SELECT 1; DELETE FROM ${table}` }), awsError('DatabaseErrorException', 400))
      assert.ok(((await count()) ?? 0) > 0, '((await count()) ?? 0) > 0')
    })

    it('refuses a missing parameter and array parameters with BadRequestException', async () => {
      await assert.rejects(exec({ sql: `SELECT :missing` }), awsError('BadRequestException', 400, /missing/))
      await assert.rejects(
        exec({ sql: `SELECT :a`, parameters: [{ name: 'a', value: { arrayValue: { longValues: [1] } } }] }),
        awsError('BadRequestException', 400, /Array parameters/),
      )
    })

    it('caps the response size like the service', async () => {
      const sql = `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 200) SELECT n, '${'x'.repeat(500)}' FROM s`
      await assert.rejects(exec({ sql }), awsError('BadRequestException', 400, /^Database returned more than the allowed response size limit$/))
      const { transactionId } = await h.client().send(new BeginTransactionCommand(base))
      await exec({ sql: `INSERT INTO ${table} (id, name, amount) VALUES (13, 'tx', 1)`, transactionId })
      await assert.rejects(exec({ sql, transactionId }), awsError('BadRequestException', 400, /response size limit/))
      // Like the service, the transaction does not survive it.
      await assert.rejects(exec({ sql: 'SELECT 1', transactionId }), awsError('TransactionNotFoundException', 404))
      assert.equal(await count('id = 13'), 0)
    })

    if (suite.sleep !== undefined) {
      const sleepSql = suite.sleep
      it('times out a long statement with StatementTimeoutException', async () => {
        await assert.rejects(exec({ sql: sleepSql(3) }), (err: unknown) => {
          awsError('StatementTimeoutException', 400)(err)
          assert.equal(typeof Reflect.get(err instanceof Error ? err : {}, 'dbConnectionId'), 'number')
          return true
        })
      })
    }

    if (suite.sleep !== undefined && suite.ownTimeout !== undefined) {
      const sleepSql = suite.sleep
      const ownTimeout = suite.ownTimeout
      // The service limit here is 400 ms; the caller's own 50 ms must win over it, and not outlive the transaction.
      it("honours the caller's own shorter timeout set in its transaction", async () => {
        const { transactionId } = await h.client().send(new BeginTransactionCommand(base))
        await exec({ sql: ownTimeout(50), transactionId })
        await assert.rejects(exec({ sql: sleepSql(0.3), transactionId }), awsError('StatementTimeoutException', 400))
        await h.client().send(new RollbackTransactionCommand({ ...base, transactionId }))
        const out = await exec({ sql: sleepSql(0.3) })
        assert.equal(out.records?.length, 1, 'the next call on the pooled session is not limited by it')
      })
    }

    if (suite.slowUpdate !== undefined) {
      const slowUpdate = suite.slowUpdate
      it('keeps running after the timeout only with continueAfterTimeout', async () => {
        await assert.rejects(exec({ sql: slowUpdate(table, 1) }), awsError('StatementTimeoutException', 400))
        // Cancelled by the database: the update never lands.
        await sleep(1500)
        assert.equal(await count("name = 'late'"), 0)
        await assert.rejects(exec({ sql: slowUpdate(table, 1), continueAfterTimeout: true }), awsError('StatementTimeoutException', 400))
        let late = 0
        for (let i = 0; i < 50 && late === 0; i++) {
          await sleep(100)
          late = (await count("name = 'late'")) ?? 0
        }
        assert.equal(late, 1)
        await exec({ sql: `UPDATE ${table} SET name = 'a' WHERE id = 1` })
      })
    }

    it('runs BatchExecute once per parameter set, all or nothing', async () => {
      const ok = await h.client().send(
        new BatchExecuteStatementCommand({
          ...base,
          sql: `INSERT INTO ${table} (id, name, amount) VALUES (:id, :name, 1)`,
          parameterSets: [20, 21, 22].map((id) => [long('id', id), str('name', `batch${id}`)]),
        }),
      )
      assert.equal(ok.updateResults?.length, 3)
      assert.equal(await count('id BETWEEN 20 AND 22'), 3)
      await assert.rejects(
        h.client().send(
          new BatchExecuteStatementCommand({
            ...base,
            sql: `INSERT INTO ${table} (id, name, amount) VALUES (:id, 'dup', 1)`,
            parameterSets: [[long('id', 30)], [long('id', 20)]],
          }),
        ),
        awsError('DatabaseErrorException', 400),
      )
      assert.equal(await count('id = 30'), 0)
    })

    it('lets a read-only secret read but not write, even after a COMMIT inside its transaction', async () => {
      const ro = { secretArn: RO_SECRET_ARN }
      const read = await exec({ ...ro, sql: `SELECT count(*) FROM ${table}` })
      assert.ok((read.records?.[0]?.[0]?.longValue ?? 0) > 0, '(read.records?.[0]?.[0]?.longValue ?? 0) > 0')
      await assert.rejects(exec({ ...ro, sql: `INSERT INTO ${table} (id, name, amount) VALUES (40, 'ro', 1)` }), awsError('DatabaseErrorException', 400, suite.readOnlyError))
      await assert.rejects(exec({ ...ro, sql: `CREATE TABLE ${table}_ro (id int)` }), awsError('DatabaseErrorException', 400))
      const { transactionId } = await h.client().send(new BeginTransactionCommand({ ...base, ...ro }))
      await exec({ ...ro, sql: 'COMMIT', transactionId }).catch(() => undefined)
      await assert.rejects(exec({ ...ro, sql: `INSERT INTO ${table} (id, name, amount) VALUES (41, 'ro', 1)`, transactionId }))
      await h.client().send(new RollbackTransactionCommand({ ...base, ...ro, transactionId })).catch(() => undefined)
      assert.equal(await count('id IN (40, 41)'), 0)
    })

    it('refuses an unknown cluster and an unmapped secret', async () => {
      await assert.rejects(exec({ sql: 'SELECT 1', resourceArn: `${CLUSTER_ARN}-x` }), awsError('NotFoundException', 404))
      await assert.rejects(exec({ sql: 'SELECT 1', secretArn: `${SECRET_ARN}-x` }), awsError('BadRequestException', 400, /secret/))
    })

    it('refuses a bad signature or unknown key with 403 and executes nothing', async () => {
      const insert = new ExecuteStatementCommand({ ...base, sql: `INSERT INTO ${table} (id, name, amount) VALUES (50, 'forged', 1)` })
      await assert.rejects(h.client({ ...CREDENTIAL, secretAccessKey: 'wrong' }).send(insert), awsError('InvalidSignatureException', 403))
      await assert.rejects(h.client({ accessKeyId: 'AKIAUNKNOWN000000001', secretAccessKey: 'x' }).send(insert), awsError('UnrecognizedClientException', 403))
      assert.equal(await count('id = 50'), 0)
      const refusals = h.trail.entries().filter((e) => e.outcome === 'InvalidSignatureException' || e.outcome === 'UnrecognizedClientException')
      assert.equal(refusals.length, 2)
      assert.ok(refusals.every((e) => e.action === 'ExecuteStatement' && e.detail === undefined), "refusals.every((e) => e.action === 'ExecuteStatement' && e.detail === undefined)")
    })

    it('records each call in the trail without parameter values', async () => {
      await exec({ sql: `SELECT count(*) FROM ${table} WHERE name = :n`, parameters: [str('n', 'trail-secret-value')] })
      const last = h.trail.entries().at(-1)
      assert.equal(last?.action, 'ExecuteStatement')
      assert.equal(last?.outcome, 'ok')
      assert.equal(last?.principalArn, CREDENTIAL.principalArn)
      assert.equal(last?.sourceIdentity, 'alice@example.com')
      assert.equal(last?.region, 'us-east-1')
      assert.equal(last?.detail?.resourceArn, CLUSTER_ARN)
      assert.equal(last?.detail?.secretArn, SECRET_ARN)
      assert.equal(typeof last?.detail?.sqlLength, 'number')
      assert.ok(!JSON.stringify(h.trail.entries()).includes('trail-secret-value'), "!JSON.stringify(h.trail.entries()).includes('trail-secret-value')")
      const failed = h.trail.entries().find((e) => e.outcome === 'DatabaseErrorException')
      assert.ok(failed, 'failed')
    })

    extra?.(() => h, table)
  })
}
