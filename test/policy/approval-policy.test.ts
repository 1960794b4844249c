import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateIamPlan } from '../../src/access-plan/generate-iam-plan.js'
import { APPROVER_GRANT_ID, approvalAccessSeconds, mayApprove } from '../../src/policy/approver-grant.js'
import { buildPolicy } from '../../src/policy/build-policy.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { explainAccess } from '../../src/policy/explain-access.js'
import type { PolicyFileInput } from '../../src/policy/policy-schema.js'
import { eks, policyOf } from './policy-fixture.js'

const NOW = Date.parse('2026-12-01T12:00:00Z')
const KUBE = { tool: 'kubectl', connectionKinds: ['eks'] as const, connection: 'demo-cluster' }
const restart = { verbs: ['rollout-restart'], resources: ['deployments'], namespaces: ['shop'] } as const

function grantWith(approval: unknown, ttl = '15m'): PolicyFileInput {
  // Invalid approvals are part of what is tested, so the input is not typed as a valid one.
  return { version: 1 as const, connections: { 'demo-cluster': eks }, grants: [{ id: 'restart', groups: ['sre'], connections: ['demo-cluster'], tools: ['kubectl'], ttl, approval, kubectl: restart }] } as unknown as PolicyFileInput
}

function issuesOf(data: unknown): string[] {
  const built = buildPolicy([{ source: 'p.json', data }])
  return built.ok ? [] : built.issues.map((i) => `${i.path}: ${i.message}`)
}

describe('approval grants in the policy', () => {
  it('defaults to one use of the approved call, pending for 10 minutes, no reason required', () => {
    const policy = policyOf(grantWith({ approverGroups: ['sre-leads'] }))
    assert.deepEqual(policy.grants[0]?.approval, { approverGroups: ['sre-leads'], use: 'once', pendingTtl: 600, reasonRequired: false })
  })

  it('takes a window with its accessTtl, capped by the grant ttl', () => {
    const policy = policyOf(grantWith({ approverGroups: ['sre-leads'], use: 'window', accessTtl: '1h', pendingTtl: '2m', reasonRequired: true }, '30m'))
    const grant = policy.grants[0]
    assert.ok(grant !== undefined, 'the grant is built')
    assert.deepEqual(grant.approval, { approverGroups: ['sre-leads'], use: 'window', accessTtl: 3600, pendingTtl: 120, reasonRequired: true })
    assert.equal(approvalAccessSeconds(grant), 1800, 'an approval window never outlasts the grant ttl')
    const built = buildPolicy([{ source: 'p.json', data: grantWith({ approverGroups: ['x'], use: 'window', accessTtl: '1h' }, '30m') }])
    assert.ok(built.ok, 'a long window is valid')
    assert.deepEqual(built.warnings.map((w) => w.path), ['grants[0].approval.accessTtl'])
  })

  const invalid: [string, unknown][] = [
    ['a window without accessTtl', { approverGroups: ['a'], use: 'window' }],
    ['accessTtl on a once approval', { approverGroups: ['a'], use: 'once', accessTtl: '5m' }],
    ['no approver group', { approverGroups: [] }],
    ['an unknown use', { approverGroups: ['a'], use: 'forever' }],
    ['the old window key', { approverGroups: ['a'], window: '10m' }],
    ['a pendingTtl over 12h', { approverGroups: ['a'], pendingTtl: '13h' }],
    ['a non-boolean reasonRequired', { approverGroups: ['a'], reasonRequired: 'yes' }],
  ]
  for (const [name, approval] of invalid) {
    it(`rejects ${name}`, () => {
      const issues = issuesOf(grantWith(approval))
      assert.ok(issues.length > 0 && issues.every((i) => i.startsWith('grants[0].approval')), `issues: ${issues.join('; ')}`)
    })
  }

  it('reserves the built-in approver grant id', () => {
    const issues = issuesOf({ version: 1, grants: [{ id: APPROVER_GRANT_ID, groups: ['x'], tools: ['whoami'] }] })
    assert.deepEqual(issues, [`grants[0].id: grant id "${APPROVER_GRANT_ID}" is reserved for the built-in approver grant`])
  })

  it('adds the approver grant for every approver group, and none without approval grants', () => {
    const policy = policyOf(grantWith({ approverGroups: ['sre-leads', 'security'] }))
    const builtIn = policy.grants.find((g) => g.id === APPROVER_GRANT_ID)
    assert.deepEqual(builtIn?.groups, ['sre-leads', 'security'])
    assert.deepEqual(builtIn?.tools, ['list_requests', 'review_request'])
    const plain = policyOf({ version: 1, grants: [{ id: 'me', groups: ['x'], tools: ['whoami'] }] })
    assert.equal(plain.grants.some((g) => g.id === APPROVER_GRANT_ID), false, 'no approval grant, no approver grant')
  })

  it('answers APPROVAL_REQUIRED with the grant for the requester, and nothing for the approver', () => {
    const policy = policyOf(grantWith({ approverGroups: ['sre-leads'] }))
    const asked = evaluate(policy, { groups: ['sre'] }, KUBE, NOW)
    assert.ok(!asked.allow && asked.reason === 'APPROVAL_REQUIRED' && asked.grant.id === 'restart', 'the requester may ask')
    const lead = evaluate(policy, { groups: ['sre-leads'] }, KUBE, NOW)
    assert.ok(!lead.allow && lead.reason === 'NO_GRANT', 'approving is not using')
    const review = evaluate(policy, { groups: ['sre-leads'] }, { tool: 'review_request', connectionKinds: [] }, NOW)
    assert.ok(review.allow && review.grantId === APPROVER_GRANT_ID, 'approvers reach the review tools')
    const requesterReview = evaluate(policy, { groups: ['sre'] }, { tool: 'review_request', connectionKinds: [] }, NOW)
    assert.ok(!requesterReview.allow, 'a requester does not reach the review tools')
  })

  it('decides who may approve by group only', () => {
    const policy = policyOf(grantWith({ approverGroups: ['sre-leads'] }))
    const grant = policy.grants[0]
    assert.ok(grant !== undefined, 'the grant is built')
    assert.equal(mayApprove(grant, ['sre-leads']), true)
    assert.equal(mayApprove(grant, ['sre']), false)
    assert.equal(mayApprove(grant, []), false)
    assert.equal(mayApprove({ ...grant, approval: undefined }, ['sre-leads']), false, 'a grant without approval has no approvers')
  })

  it('explains who may approve what', () => {
    const policy = policyOf(grantWith({ approverGroups: ['sre-leads'], use: 'window', accessTtl: '5m' }))
    const lead = explainAccess(policy, { groups: ['sre-leads'] }, NOW)
    assert.deepEqual(lead.approves, [
      { grantId: 'restart', tools: ['kubectl'], connections: ['demo-cluster'], requesters: { groups: ['sre'], subjects: [] }, use: 'window', accessSeconds: 300, pendingSeconds: 600 },
    ])
    assert.deepEqual(explainAccess(policy, { groups: ['sre'] }, NOW).approves, [], 'a requester approves nothing')
  })

  it('treats approval-only actions as reachable in the IAM plan and RBAC', () => {
    const policy = policyOf(grantWith({ approverGroups: ['sre-leads'] }))
    const plan = JSON.stringify(generateIamPlan(policy))
    assert.ok(plan.includes('eks:DescribeCluster'), 'the cluster an approval grant reaches is in the IAM plan')
    assert.ok(plan.includes('deployments') && plan.includes('patch'), 'rollout restart (patch deployments) is in the RBAC')
  })
})
