import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, afterEach, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CLEANUP_TIMEOUT_MS } from '../../src/aws/bounded-send.js'
import { createAwsClients } from '../../src/cli/create-aws-clients.js'
import { systemClock } from '../../src/clock.js'
import { AirlockError } from '../../src/errors.js'
import { callerError } from '../../src/mcp/tool-error-text.js'
import sqlQuery from '../../tools/sql-query.js'
import { DROP_RESPONSE, HANG, startFaultProxy, type FaultProxy } from '../support/fault-proxy.js'
import { grant, KEY, startSqlQueryHarness, type Args, type CallOptions, type SqlQueryHarness } from './support/sql-query-harness.js'
import { createToolDeps } from '../../tools/create-tool-deps.js'
import type { ToolDeps } from '../../tools/define-tool.js'
import { timedFailure as failure } from '../support/timed-failure.js'

const ENGINES = [
  {
    engine: 'postgres' as const,
    sleep: (marker: string) => `SELECT pg_sleep(30), '${marker}' AS marker`,
    // A read the read-only guard allows that runs for minutes: its size is out of the guard's sight
    // (a scalar subquery here; a parameter or a column in practice), so only the time limit stops it.
    slowRead: (marker: string) => `SELECT count(*), '${marker}' AS marker FROM generate_series(1, (SELECT 5000000000))`,
    // What is still running on the server, other than this query.
    running: (marker: string) => `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%${marker}%'`,
    huge: "SELECT repeat('x', (SELECT 300000000)) AS big",
    // Setup statements before the caller's, in a read-write transaction: the time limit.
    setupStatements: 1,
  },
  {
    engine: 'mysql' as const,
    sleep: (marker: string) => `SELECT SLEEP(30), '${marker}' AS marker`,
    // MariaDB's SEQUENCE engine times a recursive CTE the guard cannot size: five billion rows counted one by one.
    slowRead: (marker: string) =>
      `SELECT count(*), '${marker}' AS marker FROM seq_1_to_5000000 a, (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000) SELECT i FROM r) b`,
    running: (marker: string) => `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Sleep' AND INFO LIKE '%${marker}%'`,
    huge: "SELECT REPEAT('x', (SELECT 300000000)) AS big",
    setupStatements: 1,
  },
]

for (const e of ENGINES) {
  describe(`sql_query bounded end to end on ${e.engine} (fault proxy in front of the Data API emulator)`, () => {
    let h: SqlQueryHarness
    let proxy: FaultProxy
    let deps: ToolDeps
    // One gateway's deps for every call, as in production: the cluster's flavour is asked once.
    const handler = (args: Args, options: CallOptions = {}) => sqlQuery.handler({ ...h.ctx(args, options), deps })
    const twoSeconds = grant({ timeoutSeconds: 2 })
    const twoSecondsRw = grant({ mode: 'read-write', timeoutSeconds: 2 })
    const oneSecondRw = grant({ mode: 'read-write', timeoutSeconds: 1 })

    before(async () => {
      h = await startSqlQueryHarness(e.engine)
      proxy = await startFaultProxy(h.endpoint)
      deps = createToolDeps({ aws: createAwsClients({ credentials: async () => KEY, endpoints: { rdsData: proxy.url } }), clock: systemClock })
      // Warm up (MySQL: the one-time VERSION() per cluster), so the counts below are the steady state.
      await handler({ sql: 'SELECT 1' })
    })
    afterEach(() => proxy.clear())
    after(async () => {
      await proxy.close()
      await h.close()
    })

    const cases = [
      { name: 'a 30 s sleep under a 2 s read-write grant', sql: e.sleep, grant: twoSecondsRw },
      { name: 'a minutes-long read the guard allows under a 2 s read-only grant', sql: e.slowRead, grant: twoSeconds },
    ]
    for (const c of cases) {
      it(`${c.name}: DB_TIMEOUT within 2-4 s, and nothing left running on the database`, { timeout: 60_000 }, async () => {
        const marker = `m${randomBytes(6).toString('hex')}`
        const { code, ms } = await failure(handler({ sql: c.sql(marker) }, { grant: c.grant }))
        const [row] = await h.query(e.running(marker))
        assert.deepEqual(row, { n: 0 }, 'the statement was stopped on the database')
        assert.equal(code, 'DB_TIMEOUT')
        assert.ok(ms >= 1900 && ms < 4000, `answered after ${Math.round(ms)} ms`)
      })
    }

    it('a value built to hundreds of MB is bounded by the same limits', { timeout: 60_000 }, async () => {
      const started = performance.now()
      const outcome = await handler({ sql: e.huge }, { grant: twoSeconds }).then(
        (result) => ({ code: 'ok', big: String(result.structured?.['rows']) }),
        (error: unknown) => ({ code: error instanceof AirlockError ? error.code : String(error), big: '' }),
      )
      const ms = performance.now() - started
      // The database stops at 2 s but has to finish the row it is sending; past the client's grace the
      // call gives up, and the rollback waits at most its own deadline (plus room for building the value on a loaded machine).
      assert.ok(ms < 2000 + 1000 + CLEANUP_TIMEOUT_MS + 3000, `${outcome.code} after ${Math.round(ms)} ms`)
      // PostgreSQL builds it and the Data API refuses to return it; MariaDB yields NULL past max_allowed_packet.
      assert.ok(['DB_TIMEOUT', 'RESULT_TOO_LARGE'].includes(outcome.code) || (outcome.code === 'ok' && outcome.big.length < 1_000_000), `${outcome.code} after ${Math.round(ms)} ms`)
    })

    it('a hung ExecuteStatement and a hung rollback: answered within the grant plus the cleanup deadline', { timeout: 60_000 }, async () => {
      proxy.fault('/Execute', HANG)
      proxy.fault('/RollbackTransaction', HANG)
      const { code, ms } = await failure(handler({ sql: 'SELECT 1' }, { grant: grant({ timeoutSeconds: 1 }) }))
      assert.equal(code, 'DB_TIMEOUT')
      assert.ok(ms < 1000 + 1000 + CLEANUP_TIMEOUT_MS + 1000, `answered after ${Math.round(ms)} ms`)
      assert.ok(proxy.requests().some((r) => r.action === '/RollbackTransaction' && r.mode === 'hang'), 'the rollback was attempted')
    })

    it('a cancellation interrupts a hung ExecuteStatement at once, and the transaction is still rolled back', { timeout: 60_000 }, async () => {
      const controller = new AbortController()
      const seen = proxy.requests().length
      proxy.fault('/Execute', HANG)
      const running = failure(handler({ sql: 'SELECT 1' }, { signal: controller.signal, grant: grant({ timeoutSeconds: 30 }) }))
      await proxy.arrived('/Execute', seen)
      const aborted = performance.now()
      controller.abort()
      const { code } = await running
      assert.equal(code, 'CANCELLED')
      assert.ok(performance.now() - aborted < 1500, `answered ${Math.round(performance.now() - aborted)} ms after the cancellation`)
      assert.ok(proxy.requests().slice(seen).some((r) => r.action === '/RollbackTransaction' && r.mode === 'pass'), 'expected: proxy.requests().slice(seen).some((r) => r.action === \'/RollbackTransaction\' && r.mode === \'pass\')')
    })

    it('a lost CommitTransaction response: not retried, and the agent is told the change may have been made', { timeout: 60_000 }, async () => {
      const seen = proxy.requests().length
      proxy.fault('/CommitTransaction', DROP_RESPONSE)
      const { code, error } = await failure(handler({ sql: `UPDATE ${h.table} SET note = 'committed-once' WHERE id = 5` }, { grant: oneSecondRw }))
      assert.equal(code, 'AWS_OUTCOME_UNKNOWN')
      assert.match(callerError(error).text, /may have run/)
      assert.equal(proxy.requests().slice(seen).filter((r) => r.action === '/CommitTransaction').length, 1)
      assert.deepEqual(await h.query(`SELECT note FROM ${h.table} WHERE id = 5`), [{ note: 'committed-once' }])
    })

    it('a refused CommitTransaction (4xx) is an ordinary error: AWS said it did not commit', { timeout: 60_000 }, async () => {
      const before = await h.checksum()
      const transactionless = grant({ mode: 'read-write', timeoutSeconds: 5 })
      proxy.fault('/CommitTransaction', { kind: 'status', status: 400 })
      const { code } = await failure(handler({ sql: `UPDATE ${h.table} SET note = 'refused' WHERE id = 4` }, { grant: transactionless }))
      assert.notEqual(code, 'AWS_OUTCOME_UNKNOWN')
      await sleep(50)
      assert.equal(await h.checksum(), before, 'rolled back')
    })

    it('a lost response to a read-write statement on a transactional engine is rolled back', { timeout: 60_000, skip: e.engine !== 'postgres' }, async () => {
      const before = await h.checksum()
      proxy.fault('/Execute', DROP_RESPONSE, 1, e.setupStatements)
      const { code } = await failure(handler({ sql: `UPDATE ${h.table} SET note = 'lost' WHERE id = 3` }, { grant: oneSecondRw }))
      assert.equal(code, 'AWS_UNAVAILABLE')
      assert.equal(await h.checksum(), before)
    })

    it('a lost response to a MySQL read-write statement may have taken effect (DDL commits itself)', { timeout: 60_000, skip: e.engine !== 'mysql' }, async () => {
      proxy.fault('/Execute', DROP_RESPONSE, 1, e.setupStatements)
      const { code } = await failure(handler({ sql: `UPDATE ${h.table} SET note = 'lost' WHERE id = 3` }, { grant: oneSecondRw }))
      assert.equal(code, 'AWS_OUTCOME_UNKNOWN')
    })
  })
}
