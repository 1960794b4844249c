import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { requestOutcome } from '../../src/metrics/gateway-metrics.js'
import { createPrometheusMetrics } from '../../src/metrics/prometheus-metrics.js'

/** The value of one sample line (`name{labels} value`) in the exposition text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('createPrometheusMetrics', () => {
  it('counts requests, auth failures, tool calls, audit commits, JWKS refreshes and rate-limit refusals', async () => {
    const metrics = createPrometheusMetrics({ processMetrics: false })
    metrics.request('mcp', 'ok')
    metrics.request('mcp', 'ok')
    metrics.request('mcp', 'throttled')
    metrics.authFailure('bad_signature')
    metrics.toolCall('whoami', 'ok', 12)
    metrics.toolCall('whoami', 'denied', 3000)
    metrics.auditCommit(5, 2)
    metrics.jwksRefresh('ok')
    metrics.jwksRefresh('error')
    metrics.rateLimited('unauthenticated')
    const { text, contentType } = await metrics.scrape()
    assert.match(contentType, /^text\/plain; version=0\.0\.4/)
    assert.equal(sample(text, 'airlock_http_requests_total{route="mcp",outcome="ok"}'), 2)
    assert.equal(sample(text, 'airlock_http_requests_total{route="mcp",outcome="throttled"}'), 1)
    assert.equal(sample(text, 'airlock_auth_failures_total{reason="bad_signature"}'), 1)
    assert.equal(sample(text, 'airlock_tool_calls_total{tool="whoami",outcome="ok"}'), 1)
    assert.equal(sample(text, 'airlock_tool_call_duration_seconds_bucket{le="0.025",tool="whoami",outcome="ok"}'), 1)
    assert.equal(sample(text, 'airlock_tool_call_duration_seconds_bucket{le="2.5",tool="whoami",outcome="denied"}'), 0)
    assert.equal(sample(text, 'airlock_tool_call_duration_seconds_sum{tool="whoami",outcome="denied"}'), 3)
    assert.equal(sample(text, 'airlock_audit_records_total'), 5)
    assert.equal(sample(text, 'airlock_audit_commit_duration_seconds_count'), 1)
    assert.equal(sample(text, 'airlock_audit_commit_duration_seconds_bucket{le="0.0025"}'), 1)
    assert.equal(sample(text, 'airlock_audit_commit_duration_seconds_bucket{le="0.001"}'), 0)
    assert.equal(sample(text, 'airlock_jwks_refreshes_total{result="ok"}'), 1)
    assert.equal(sample(text, 'airlock_jwks_refreshes_total{result="error"}'), 1)
    assert.equal(sample(text, 'airlock_rate_limited_total{limit="unauthenticated"}'), 1)
  })

  it('exports one policy fingerprint at a time and reads the session count at scrape time', async () => {
    const metrics = createPrometheusMetrics({ processMetrics: false })
    let sessions = 3
    metrics.trackActiveSessions(() => sessions)
    metrics.policyLoaded('aaa')
    metrics.policyLoaded('bbb')
    let { text } = await metrics.scrape()
    assert.equal(sample(text, 'airlock_policy_info{fingerprint="bbb"}'), 1)
    assert.equal(sample(text, 'airlock_policy_info{fingerprint="aaa"}'), undefined)
    assert.equal(sample(text, 'airlock_sessions_active'), 3)
    sessions = 7
    ;({ text } = await metrics.scrape())
    assert.equal(sample(text, 'airlock_sessions_active'), 7)
  })

  it('keeps each gateway on its own registry, and adds the process metrics by default', async () => {
    const a = createPrometheusMetrics()
    const b = createPrometheusMetrics({ processMetrics: false })
    a.toolCall('whoami', 'ok', 1)
    assert.equal(sample((await b.scrape()).text, 'airlock_tool_calls_total{tool="whoami",outcome="ok"}'), undefined)
    const text = (await a.scrape()).text
    assert.equal(sample(text, 'airlock_tool_calls_total{tool="whoami",outcome="ok"}'), 1)
    assert.match(text, /^process_resident_memory_bytes \d+/m)
    // Sampled every 100 ms rather than every 10 ms: still exported, with a stall's full length.
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds [\d.e+-]+$/m)
    assert.match(text, /^nodejs_eventloop_lag_max_seconds [\d.e+-]+$/m)
    assert.doesNotMatch((await b.scrape()).text, /process_resident_memory_bytes/)
  })
})

describe('createPrometheusMetrics: event loop lag', () => {
  // The lag metrics report the interval between two samples: the sampling period when idle, more
  // when the loop was held up.
  it('samples every 100 ms, not prom-client’s 10 ms (which wakes an idle replica 100 times a second)', async () => {
    const metrics = createPrometheusMetrics()
    await metrics.scrape() // the lag histogram starts afresh after each scrape
    await delay(350)
    const min = sample((await metrics.scrape()).text, 'nodejs_eventloop_lag_min_seconds')
    // A timer never fires early: no interval is shorter than the period.
    assert.ok(min !== undefined && min >= 0.099, `lag min ${min} s`)
  })

  it('still shows a stall of the event loop by its whole length', async () => {
    const metrics = createPrometheusMetrics()
    await metrics.scrape()
    await delay(250)
    const until = performance.now() + 150
    while (performance.now() < until) {
      // Blocks the event loop: the pending sample fires only when the stall ends.
    }
    await delay(250)
    const max = sample((await metrics.scrape()).text, 'nodejs_eventloop_lag_max_seconds')
    // The sample pending when the stall began fires at its end: that interval spans the 150 ms.
    assert.ok(max !== undefined && max >= 0.15, `lag max ${max} s after a 150 ms stall`)
  })
})

describe('requestOutcome', () => {
  const cases: Array<[number, boolean, string]> = [
    [200, true, 'ok'],
    [202, true, 'ok'],
    [204, true, 'ok'],
    [400, true, 'rejected'],
    [401, true, 'unauthenticated'],
    [403, true, 'forbidden'],
    [404, true, 'not_found'],
    [405, true, 'rejected'],
    [413, true, 'rejected'],
    [429, true, 'throttled'],
    [500, true, 'error'],
    [503, true, 'unavailable'],
    [200, false, 'aborted'],
  ]
  for (const [status, finished, outcome] of cases) {
    it(`${status}${finished ? '' : ' (client gone)'} → ${outcome}`, () => assert.equal(requestOutcome(status, finished), outcome))
  }
})
