import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { InputError, PolicyError } from '../../src/errors.js'
import { checkSql } from '../../src/guard/sql/check-sql.js'
import { matchTemplate } from '../../src/guard/shell/match-template.js'
import { tokenizeCommand } from '../../src/guard/shell/tokenize-command.js'
import { createCallAdmission } from '../../src/mcp/admit-call.js'
import { callerError } from '../../src/mcp/tool-error-text.js'
import { createManualClock } from '../../src/clock.js'
import { parseCommandTemplate } from '../../src/policy/command-template.js'
import { evaluate } from '../../src/policy/evaluate.js'
import type { KubectlConstraints } from '../../src/policy/kubectl-constraints.js'
import { createMemoryState } from '../../src/state/gateway-state.js'
import { checkKubeAccess } from '../../tools/kubectl/check-kube-access.js'
import { instanceNotAllowed } from '../../tools/ssm-run/resolve-instance.js'
import { eks, policyOf, rds, ssm } from '../policy/policy-fixture.js'

// Every refusal an agent reads is a fixed sentence for its code plus what is specific to the call.
// Read together they must not say the same thing twice.

const NOW = Date.parse('2026-11-29T12:00:00Z')

/** Lower-cased words; four in a row that appear twice are the same thing said twice. */
function repeatedPhrases(text: string): string[] {
  const words = text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '')
  const seen = new Map<string, number>()
  const repeated: string[] = []
  for (let i = 0; i + 4 <= words.length; i++) {
    const phrase = words.slice(i, i + 4).join(' ')
    const first = seen.get(phrase)
    if (first !== undefined && i - first >= 4) repeated.push(phrase)
    else if (first === undefined) seen.set(phrase, i)
  }
  return repeated
}

function sentences(text: string): string[] {
  return text.split(/(?<=[.!?])\s+/).map((s) => s.trim().toLowerCase()).filter((s) => s !== '')
}

async function refusal(work: () => unknown): Promise<string> {
  try {
    await work()
  } catch (error) {
    return callerError(error).text
  }
  return assert.fail('not refused')
}

const policy = policyOf({
  version: 1,
  connections: { 'orders-db': rds, web: ssm, cluster: eks },
  grants: [
    { id: 'dba', groups: ['dba'], connections: ['orders-db'], tools: ['sql_query'] },
    { id: 'former', groups: ['former'], tools: ['list_connections'], notAfter: '2026-11-01T00:00:00Z' },
    { id: 'restart', groups: ['sre'], connections: ['cluster'], tools: ['kubectl'], approval: { approverGroups: ['leads'] }, kubectl: { verbs: ['rollout-restart'], resources: ['deployments'], namespaces: ['shop'] } },
  ],
})

async function allRefusals(): Promise<Record<string, string>> {
  const texts: Record<string, string> = {}
  const deny = (name: string, groups: string[], tool: string, kinds: ('rds-data' | 'ssm' | 'eks')[], connection?: string) => {
    const decision = evaluate(policy, { groups, subject: 'x' }, { tool, connectionKinds: kinds, connection }, NOW)
    assert.ok(!decision.allow, name)
    // As the call path maps a decision (call-tool.ts).
    texts[name] = callerError(new PolicyError(decision.reason === 'APPROVAL_REQUIRED' ? 'APPROVAL_REQUIRED' : 'POLICY_DENIED', decision.message)).text
  }
  deny('no grant', [], 'list_connections', [])
  deny('connection required', ['dba'], 'sql_query', ['rds-data'])
  deny('connection not expected', ['former'], 'list_connections', [], 'web')
  deny('unknown connection', ['dba'], 'sql_query', ['rds-data'], 'nope')
  deny('wrong connection kind', ['dba'], 'ssm_run', ['ssm'], 'orders-db')
  deny('grant expired', ['former'], 'list_connections', [])
  deny('approval required', ['sre'], 'kubectl', ['eks'], 'cluster')

  const state = createMemoryState(createManualClock(NOW))
  const admit = createCallAdmission({ state, subjectLimits: { callsPerMinute: 1 }, maxSignInAgeMs: 3600_000 })
  const grant = policy.grants[0] ?? assert.fail('grant')
  const who = { issuer: 'https://idp', subject: 'a', groups: ['dba'], expiresAt: NOW / 1000 + 600, issuedAt: NOW / 1000 }
  const first = await admit(who, grant, NOW)
  if (first.ok) await first.release()
  for (const [name, answer] of [
    ['rate limited', await admit(who, grant, NOW + 1)],
    ['access period ended', await admit(who, grant, NOW + 16 * 60_000)],
    ['sign-in too old', await admit({ ...who, subject: 'b', issuedAt: NOW / 1000 - 7200 }, grant, NOW + 20 * 60_000)],
  ] as const) {
    assert.ok(!answer.ok, name)
    texts[name] = callerError(new PolicyError(answer.code, answer.message)).text
  }

  const masked = ['*.email', 'customers.phone']
  for (const [name, sql, mode] of [
    ['sql parse', 'SELEC 1', 'read-only'],
    ['sql two statements', 'SELECT 1; SELECT 2', 'read-only'],
    ['sql not read-only', 'DELETE FROM orders', 'read-only'],
    ['sql never allowed', "COPY orders TO '/tmp/x'", 'read-write'],
    ['sql masked column', 'SELECT id FROM customers ORDER BY email', 'read-only'],
    ['sql masked whole row', 'SELECT c FROM customers c', 'read-only'],
    ['sql explain masked', 'EXPLAIN SELECT email FROM customers', 'read-only'],
  ] as const) {
    texts[name] = await refusal(() => checkSql({ engine: 'postgres', sql, mode, maskedColumns: masked }))
  }
  texts['shell syntax'] = await refusal(() => tokenizeCommand('uptime; cat /etc/shadow'))
  const templates = [['tail', '-n', '{int:1-500}', '{path:/var/log/**}'], ['uptime']].map((t) => parseCommandTemplate(t))
  texts['command not allowed'] = await refusal(() => matchTemplate(['tail', '-n', '900', '/var/log/syslog'], templates))
  texts['program not allowed'] = await refusal(() => matchTemplate(['rm', '-rf', '/'], templates))
  texts['instance not allowed'] = await refusal(() => {
    throw instanceNotAllowed({ id: 'web', kind: 'ssm', region: 'us-east-1', instanceIds: ['i-0a1b2c3d4e5f60001'] }, 'i-0a1b2c3d4e5f60009')
  })
  const kube: KubectlConstraints = { verbs: ['get', 'list'], resources: ['pods'], namespaces: ['shop'], logs: { maxLines: 500, maxBytes: 65_536, maxSinceSeconds: 86_400 }, revealSecretValues: false }
  texts['kubectl verb'] = await refusal(() => checkKubeAccess(kube, { verb: 'delete-pod', resource: 'pods', namespace: 'shop', name: 'p' }))
  texts['kubectl name'] = await refusal(() => checkKubeAccess(kube, { verb: 'get', resource: 'pods', namespace: 'shop' }))
  const parsed = z.strictObject({ sql: z.string() }).safeParse({ sqll: 'x' })
  texts['input invalid'] = callerError(new InputError('INPUT_INVALID', parsed.success ? '' : parsed.error.issues.map((i) => i.message).join('; '))).text
  return texts
}

describe('refusal texts read well', () => {
  it('never say the same sentence or phrase twice', async () => {
    const texts = await allRefusals()
    assert.ok(Object.keys(texts).length >= 24, `enough refusals (${Object.keys(texts).length})`)
    const problems: string[] = []
    for (const [name, text] of Object.entries(texts)) {
      const all = sentences(text)
      if (new Set(all).size !== all.length) problems.push(`${name}: a sentence repeats: ${text}`)
      const phrases = repeatedPhrases(text)
      if (phrases.length > 0) problems.push(`${name}: "${phrases.join('", "')}" twice in: ${text}`)
    }
    assert.deepEqual(problems, [])
  })

  it('drops a detail sentence that only repeats the fixed one', () => {
    const text = callerError(new PolicyError('POLICY_DENIED', 'Access denied by policy. You have no grant for tool x.')).text
    assert.equal(text, 'Access denied by policy. You have no grant for tool x.')
  })
})
