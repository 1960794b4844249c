/**
 * The official MCP conformance suite against the gateway, through both lanes (docs/conformance.md).
 *
 * The gateway runs as the sandbox runs it: the demo policy, the sandbox's dev OIDC provider, the
 * real tools. The suite cannot send a bearer token, so it talks to a loopback proxy that forwards
 * each request unchanged (Host and Origin included) with a token freshly issued by that provider
 * for alice; the gateway verifies every one. The gateway is configured as deployed behind that
 * proxy: `publicUrl` is the proxy's origin (the token audience), and that origin is an allowed
 * browser origin (Airlock allows none by default, so without it the suite's "valid localhost
 * Origin" request gets 403 by design).
 *
 * Each scenario the suite runs is classified here: applicable (every check must pass, bar the
 * named checks that do not apply) or not applicable, with the reason. A scenario the suite adds
 * fails the test until it is classified.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startGateway, type RunningGateway } from '../../src/cli/start-gateway.js'
import { gatewayConfigSchema } from '../../src/config.js'
import { startDevIdp, type DevIdp } from '../../src/sandbox/oidc/start-dev-idp.js'
import { ensureConformanceSuite, runServerScenarios, type ConformanceSuite, type ServerRun } from '../support/conformance-suite.js'
import { createTeardown } from '../support/teardown.js'
import { noAwsCredentials } from './support/start-e2e.js'
import { startTokenProxy, type TokenProxy } from './support/token-proxy.js'

interface Classification {
  /** Scenarios that apply: every check passes, except the named ones (check id → why it does not apply). */
  readonly applicable: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** Scenario → why it does not apply to a gateway that declares only tools. */
  readonly notApplicable: Readonly<Record<string, string>>
}

const FIXTURE = 'needs the suite’s fixture tool for it; the gateway serves only its own five tools (an unknown tool gets a policy denial)'
const VACUOUS = `${FIXTURE}; it "passes" only because that denial is an isError result with text`
const NO_RESOURCES = 'the gateway declares no resources'
const NO_PROMPTS = 'the gateway declares no prompts'
const NEVER_ASKS = 'the gateway never asks the client for anything (no sampling, elicitation or roots)'

const SHARED_NOT_APPLICABLE: Readonly<Record<string, string>> = {
  'completion-complete': 'no prompts or resources, so nothing to complete',
  'tools-call-simple-text': VACUOUS,
  'tools-call-error': VACUOUS,
  'tools-call-image': FIXTURE,
  'tools-call-audio': FIXTURE,
  'tools-call-embedded-resource': FIXTURE,
  'tools-call-mixed-content': FIXTURE,
  'tools-call-with-progress': FIXTURE,
  'resources-list': NO_RESOURCES,
  'resources-read-text': NO_RESOURCES,
  'resources-read-binary': NO_RESOURCES,
  'resources-templates-read': NO_RESOURCES,
  'prompts-list': NO_PROMPTS,
  'prompts-get-simple': NO_PROMPTS,
  'prompts-get-with-args': NO_PROMPTS,
  'prompts-get-embedded-resource': NO_PROMPTS,
  'prompts-get-with-image': NO_PROMPTS,
}

/** conformance 0.1.16, its active suite, on the 2025 lane. */
const LEGACY: Classification = {
  applicable: { 'server-initialize': {}, ping: {}, 'tools-list': {}, 'server-sse-multiple-streams': {}, 'dns-rebinding-protection': {} },
  notApplicable: {
    ...SHARED_NOT_APPLICABLE,
    'logging-set-level': 'the gateway declares no logging capability: its log is for operators, not agents',
    'tools-call-with-logging': 'the gateway declares no logging capability',
    'tools-call-sampling': NEVER_ASKS,
    'tools-call-elicitation': NEVER_ASKS,
    'elicitation-sep1034-defaults': NEVER_ASKS,
    'elicitation-sep1330-enums': NEVER_ASKS,
    'resources-subscribe': NO_RESOURCES,
    'resources-unsubscribe': NO_RESOURCES,
  },
}

/** conformance 0.2.0-alpha.12 `--requirements 2026-07-28` (run at the 2026-07-28 wire): the modern lane. */
const MODERN: Classification = {
  applicable: {
    'server-stateless': {
      'sep-2575-server-rejects-undeclared-capability': `${FIXTURE} (test_missing_capability, which needs sampling); no gateway tool needs a client capability`,
      'sep-2575-missing-capability-http-400': 'the same fixture tool',
      'sep-2575-server-sends-subscription-ack': 'the gateway publishes no change notifications and refuses subscriptions/listen',
      'sep-2575-server-tags-subscription-id': 'no subscriptions (as above)',
      'sep-2575-server-honors-notification-filter': 'no subscriptions (as above)',
      'sep-2575-server-sends-prompts-list-changed-on-subscription': 'no subscriptions, no prompts',
      'sep-2575-server-sends-tools-list-changed-on-subscription': 'no subscriptions (tools.listChanged is false)',
    },
    'tools-list': {},
    caching: {
      'sep-2549-prompts-list-caching-hints': NO_PROMPTS,
      'sep-2549-resources-list-caching-hints': NO_RESOURCES,
      'sep-2549-resources-templates-list-caching-hints': NO_RESOURCES,
      'sep-2549-resources-read-caching-hints': NO_RESOURCES,
    },
    'dns-rebinding-protection': {},
    'http-header-validation': {},
    'server-sse-multiple-streams': {},
  },
  notApplicable: {
    ...SHARED_NOT_APPLICABLE,
    'json-schema-2020-12': FIXTURE,
    'sep-2164-resource-not-found': NO_RESOURCES,
    'http-custom-header-server-validation': 'no gateway tool declares x-mcp-header parameters',
    ...Object.fromEntries(
      ['basic-elicitation', 'basic-sampling', 'basic-list-roots', 'request-state', 'multiple-input-requests', 'multi-round', 'missing-input-response', 'non-tool-request', 'result-type', 'unsupported-methods', 'tampered-state', 'capability-check', 'ignore-extra-params', 'validate-input'].map((s) => [`input-required-result-${s}`, `${NEVER_ASKS}; these need the suite’s fixture tools`]),
    ),
    ...Object.fromEntries(
      ['lifecycle', 'capability-negotiation', 'wire-fields', 'request-state-removal', 'mrtr-input', 'request-headers', 'dispatch-and-envelope', 'status-notifications', 'required-task-error', 'mrtr-composition'].map((s) => [`tasks-${s}`, 'the tasks extension (optional, not scored); the gateway does not declare it']),
    ),
  },
}

const PASSING = new Set(['SUCCESS', 'INFO'])

/** Asserts every scenario is classified and every applicable check passed; returns the applicable checks that passed. */
function judge(run: ServerRun, table: Classification, expectScenarios: readonly string[]): number {
  assert.deepEqual([...run.scenarios.keys()].sort(), [...expectScenarios].sort(), `the suite ran other scenarios than classified here; classify them.\n${run.output.slice(-2000)}`)
  const failures: string[] = []
  let passed = 0
  for (const [scenario, excused] of Object.entries(table.applicable)) {
    const checks = run.scenarios.get(scenario) ?? []
    if (checks.length === 0) failures.push(`${scenario}: no checks`)
    for (const check of checks) {
      if (Object.hasOwn(excused, check.id)) continue
      if (PASSING.has(check.status)) passed++
      else failures.push(`${scenario} / ${check.id}: ${check.status} ${check.errorMessage ?? ''}`)
    }
  }
  assert.deepEqual(failures, [], 'every applicable conformance check passes')
  return passed
}

function classified(table: Classification): string[] {
  return [...Object.keys(table.applicable), ...Object.keys(table.notApplicable)]
}

/** session.start records and tools.list records with and without a session, from the audit file. */
async function laneEvidence(auditPath: string): Promise<{ sessions: number; statelessLists: number }> {
  const records = (await readFile(auditPath, 'utf8')).trim().split('\n').map((line): unknown => JSON.parse(line))
  const typed = records.map((r) => ({ type: Reflect.get(Object(r), 'type'), session: Reflect.get(Object(r), 'session') }))
  return {
    sessions: typed.filter((r) => r.type === 'session.start').length,
    statelessLists: typed.filter((r) => r.type === 'tools.list' && r.session === undefined).length,
  }
}

describe('the official MCP conformance suite, against the sandbox gateway, through both lanes', { timeout: 600_000 }, () => {
  const teardown = createTeardown()
  let suite: ConformanceSuite | undefined
  let skip = ''
  let dir = ''
  let proxy: TokenProxy
  let gateway: RunningGateway

  before(async () => {
    const installed = await ensureConformanceSuite()
    if (!installed.ok) {
      skip = installed.skip
      return
    }
    suite = installed.suite
    dir = await mkdtemp(join(tmpdir(), 'airlock-conformance-'))
    teardown.add(() => rm(dir, { recursive: true, force: true }))
    let idp: DevIdp | undefined
    proxy = await startTokenProxy({
      mint: async () => {
        if (idp === undefined) throw new TypeError('the dev IdP is not up yet')
        return idp.mintToken('alice')
      },
    })
    teardown.add(() => proxy.close())
    idp = await startDevIdp({ audience: `${proxy.origin}/mcp` })
    const started = idp
    teardown.add(() => started.close())
    const config = gatewayConfigSchema.parse({
      issuer: idp.issuer,
      listen: { host: '127.0.0.1', port: 0 },
      publicUrl: proxy.origin,
      allowedOrigins: [proxy.origin],
      policy: [fileURLToPath(new URL('../../policies/demo.json', import.meta.url))],
      audit: { path: join(dir, 'audit.jsonl'), durability: 'write' },
    })
    gateway = await startGateway({ config, awsCredentials: noAwsCredentials })
    teardown.add(() => gateway.close())
    const address = gateway.http.address()
    assert.ok(address !== null && typeof address === 'object', 'the gateway listens on a TCP port')
    proxy.setTarget(`http://127.0.0.1:${address.port}`)
  })
  after(() => teardown.run())

  const ready = (t: TestContext): ConformanceSuite | undefined => {
    if (suite === undefined) t.skip(`conformance suite not run: ${skip}`)
    return suite
  }

  it('2025 lane, conformance 0.1.16 (active suite): every scenario that applies passes', async (t) => {
    const s = ready(t)
    if (s === undefined) return
    const before = await laneEvidence(join(dir, 'audit.jsonl'))
    const run = await runServerScenarios(s, 'legacy', `${proxy.origin}/mcp`, [], join(dir, 'legacy'))
    const passed = judge(run, LEGACY, classified(LEGACY))
    t.diagnostic(`2025 lane: ${passed} checks passed in ${Object.keys(LEGACY.applicable).length} scenarios; ${Object.keys(LEGACY.notApplicable).length} scenarios not applicable`)
    const afterRun = await laneEvidence(join(dir, 'audit.jsonl'))
    assert.ok(afterRun.sessions > before.sessions, 'the suite was served through 2025 sessions')
  })

  it('2025 lane, conformance 0.2.0-alpha.12 at the 2025-11-25 wire: the session lifecycle', async (t) => {
    const s = ready(t)
    if (s === undefined) return
    const run = await runServerScenarios(s, 'modern', `${proxy.origin}/mcp`, ['--scenario', 'server-session-lifecycle', '--spec-version', '2025-11-25'], join(dir, 'sessions'))
    const passed = judge(run, { applicable: { 'server-session-lifecycle': {} }, notApplicable: {} }, ['server-session-lifecycle'])
    assert.ok(passed >= 3, `initialized, DELETE and 404 after it were all checked (${passed})`)
  })

  it('2026-07-28 lane, conformance 0.2.0-alpha.12 (--requirements 2026-07-28): every scenario that applies passes', async (t) => {
    const s = ready(t)
    if (s === undefined) return
    const before = await laneEvidence(join(dir, 'audit.jsonl'))
    const run = await runServerScenarios(s, 'modern', `${proxy.origin}/mcp`, ['--requirements', '2026-07-28'], join(dir, 'modern'))
    const passed = judge(run, MODERN, classified(MODERN))
    t.diagnostic(`2026-07-28 lane: ${passed} checks passed in ${Object.keys(MODERN.applicable).length} scenarios; ${Object.keys(MODERN.notApplicable).length} scenarios not applicable`)
    const afterRun = await laneEvidence(join(dir, 'audit.jsonl'))
    assert.equal(afterRun.sessions, before.sessions, 'no 2025 session was opened: the suite spoke 2026-07-28')
    assert.ok(afterRun.statelessLists > before.statelessLists, 'tools/list was served without a session')
    assert.ok(proxy.forwarded > 0, 'every request went through the token proxy')
  })
})
