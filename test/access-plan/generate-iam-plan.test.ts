import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateIamPlan, irsaTrustPolicy, type IamStatement } from '../../src/access-plan/generate-iam-plan.js'
import { kubeRulesFor } from '../../src/access-plan/eks-access.js'
import { buildPolicy } from '../../src/policy/build-policy.js'
import type { Policy } from '../../src/policy/policy.js'

const ACCOUNT = '111122223333'
const CLUSTER_A = `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:orders`
const CLUSTER_B = `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:billing`
const RW_A = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:orders-rw-Ab12Cd`
const RO_A = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:orders-ro-Ef34Gh`
const RW_B = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:billing-rw-Ij56Kl`
const RO_B = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:billing-ro-Mn78Op`
const LEGACY_ROLE = `arn:aws:iam::${ACCOUNT}:role/legacy-db-access`

function policyOf(doc: unknown): Policy {
  const built = buildPolicy([{ source: 'test.json', data: doc }])
  assert.ok(built.ok, JSON.stringify(built.ok ? [] : built.issues))
  return built.policy
}

const POLICY = policyOf({
  version: 1,
  connections: {
    orders: { kind: 'rds-data', region: 'eu-west-1', engine: 'postgres', database: 'orders', resourceArn: CLUSTER_A, secretArn: RW_A, readOnlySecretArn: RO_A },
    billing: { kind: 'rds-data', region: 'eu-west-1', engine: 'mysql', database: 'billing', resourceArn: CLUSTER_B, secretArn: RW_B, readOnlySecretArn: RO_B },
    unused: { kind: 'rds-data', region: 'eu-west-1', engine: 'mysql', database: 'x', resourceArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:unused`, secretArn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:unused` },
    legacy: { kind: 'rds-data', region: 'eu-west-1', engine: 'postgres', database: 'legacy', roleArn: LEGACY_ROLE, resourceArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:legacy`, secretArn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:legacy` },
    web: { kind: 'ssm', region: 'eu-west-1', instanceIds: ['i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60001', 'mi-0123456789abcdef0'] },
    'batch-hosts': { kind: 'ssm', region: 'eu-west-1', targets: { 'tag:role': ['batch', 'etl'], 'tag:env': ['prod'] } },
    k8s: { kind: 'eks', region: 'eu-west-1', cluster: 'prod' },
  },
  grants: [
    { id: 'read-orders', groups: ['dba'], connections: ['orders', 'legacy'], tools: ['sql_query'] },
    { id: 'write-billing', groups: ['finance'], connections: ['billing'], tools: ['sql_query'], sql: { mode: 'read-write' } },
    { id: 'shell', groups: ['sre'], connections: ['web', 'batch-hosts'], tools: ['ssm_run'], ssm: { commands: [['uptime']] } },
    {
      id: 'kube-read',
      groups: ['sre'],
      connections: ['k8s'],
      tools: ['kubectl'],
      kubectl: { verbs: ['get', 'list', 'logs', 'events'], resources: ['pods', 'deployments', 'nodes'], namespaces: ['shop'] },
    },
    {
      id: 'kube-ops',
      groups: ['sre-leads'],
      connections: ['k8s'],
      tools: ['kubectl'],
      kubectl: { verbs: ['scale', 'rollout-restart', 'delete-pod'], resources: ['deployments', 'pods'], namespaces: ['shop', 'team-*'] },
    },
  ],
})

const EXPECTED: readonly IamStatement[] = [
  {
    Sid: 'RdsDataApi',
    Effect: 'Allow',
    Action: ['rds-data:BatchExecuteStatement', 'rds-data:BeginTransaction', 'rds-data:CommitTransaction', 'rds-data:ExecuteStatement', 'rds-data:RollbackTransaction'],
    Resource: [CLUSTER_B, CLUSTER_A],
  },
  // orders is only read: its read-write secret is not needed; billing is only written: its read-only secret is not needed.
  { Sid: 'RdsDataSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [RW_B, RO_A] },
  { Sid: 'SsmRunShellScriptDocument', Effect: 'Allow', Action: ['ssm:SendCommand'], Resource: ['arn:aws:ssm:eu-west-1::document/AWS-RunShellScript'] },
  {
    Sid: 'SsmSendCommandToInstances',
    Effect: 'Allow',
    Action: ['ssm:SendCommand'],
    Resource: [
      `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0a1b2c3d4e5f60001`,
      `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0a1b2c3d4e5f60002`,
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/mi-0123456789abcdef0`,
    ],
  },
  {
    Sid: 'SsmSendCommandTaggedBatchHosts',
    Effect: 'Allow',
    Action: ['ssm:SendCommand'],
    Resource: [`arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/*`, `arn:aws:ssm:eu-west-1:${ACCOUNT}:managed-instance/*`],
    Condition: { StringEquals: { 'ssm:resourceTag/env': ['prod'], 'ssm:resourceTag/role': ['batch', 'etl'] } },
  },
  {
    Sid: 'SsmCommandResults',
    Effect: 'Allow',
    Action: ['ssm:CancelCommand', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'],
    Resource: ['*'],
  },
  { Sid: 'EksDescribeCluster', Effect: 'Allow', Action: ['eks:DescribeCluster'], Resource: [`arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod`] },
  { Sid: 'AssumeConnectionRoles', Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Resource: [LEGACY_ROLE] },
]

describe('generateIamPlan', () => {
  const plan = generateIamPlan(POLICY, {
    accountId: ACCOUNT,
    oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123`,
  })

  it('has exactly the expected gateway statements, in order', () => {
    assert.deepEqual(plan.gatewayRole.policy, { Version: '2012-10-17', Statement: EXPECTED })
  })

  for (const expected of EXPECTED) {
    it(`statement ${expected.Sid}`, () => {
      assert.deepEqual(plan.gatewayRole.policy.Statement.find((s) => s.Sid === expected.Sid), expected)
    })
  }

  it('never grants a wildcard action, and uses "*" only where IAM allows nothing narrower', () => {
    for (const s of plan.gatewayRole.policy.Statement) {
      for (const action of s.Action) assert.doesNotMatch(action, /\*/)
      if (s.Resource?.includes('*')) assert.equal(s.Sid, 'SsmCommandResults')
    }
  })

  it('excludes connections no grant reaches, and per-role connections from the gateway policy', () => {
    const text = JSON.stringify(plan.gatewayRole.policy)
    assert.doesNotMatch(text, /cluster:unused|secret:unused/)
    assert.doesNotMatch(text, /cluster:legacy/)
  })

  it('gives each connection role its own data policy and a trust policy for the gateway with SourceIdentity', () => {
    assert.equal(plan.connectionRoles.length, 1)
    const legacy = plan.connectionRoles[0]
    assert.equal(legacy?.roleArn, LEGACY_ROLE)
    assert.deepEqual(legacy?.connections, ['legacy'])
    assert.deepEqual(legacy?.policy.Statement.map((s) => [s.Sid, s.Resource]), [
      ['RdsDataApi', [`arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:legacy`]],
      ['RdsDataSecrets', [`arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:legacy`]],
    ])
    assert.deepEqual(legacy?.trustPolicy.Statement, [
      {
        Sid: 'AirlockGatewayWithSourceIdentity',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/airlock-gateway` },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Condition: { Null: { 'sts:SourceIdentity': 'false' }, StringLike: { 'sts:RoleSessionName': 'airlock-*' } },
      },
    ])
  })

  it('builds the IRSA trust policy for exactly one service account', () => {
    assert.deepEqual(plan.gatewayRole.trustPolicy, {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'IrsaServiceAccount',
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123` },
          Action: ['sts:AssumeRoleWithWebIdentity'],
          Condition: {
            StringEquals: {
              'oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud': 'sts.amazonaws.com',
              'oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub': 'system:serviceaccount:airlock:airlock-gateway',
            },
          },
        },
      ],
    })
    const custom = irsaTrustPolicy(`arn:aws:iam::${ACCOUNT}:oidc-provider/x.example/id/1`, { namespace: 'tools', name: 'gw' })
    assert.equal(custom.Statement[0]?.Condition?.['StringEquals']?.['x.example/id/1:sub'], 'system:serviceaccount:tools:gw')
  })

  it('maps kubectl verbs to RBAC: Roles for exact namespaces, ClusterRole for patterns and cluster-scoped resources', () => {
    const access = plan.eks[0]
    assert.equal(access?.group, 'airlock-k8s')
    assert.deepEqual(access?.accessEntry, { clusterName: 'prod', principalArn: `arn:aws:iam::${ACCOUNT}:role/airlock-gateway`, type: 'STANDARD', kubernetesGroups: ['airlock-k8s'] })
    assert.deepEqual(access?.awsAuthMapRole?.groups, ['airlock-k8s'])
    const kinds = access?.rbac.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}`)
    assert.deepEqual(kinds, ['ClusterRole/', 'ClusterRoleBinding/', 'Role/shop', 'RoleBinding/shop'])
    const shop = access?.rbac.find((o) => o.kind === 'Role')
    assert.deepEqual(shop?.rules, [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'patch'] },
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['delete', 'get', 'list'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ])
    const cluster = access?.rbac.find((o) => o.kind === 'ClusterRole')
    assert.deepEqual(cluster?.rules, [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'] },
      { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['delete'] },
    ])
    assert.ok(plan.warnings.some((w) => w.includes('team-*')), 'expected: plan.warnings.some((w) => w.includes(\'team-*\'))')
  })

  const VERBS: Array<[Parameters<typeof kubeRulesFor>[0], Parameters<typeof kubeRulesFor>[1], Array<readonly [string, string]>]> = [
    ['get', ['pods', 'secrets'], [['pods', 'get'], ['secrets', 'get']]],
    ['describe', ['services'], [['services', 'get']]],
    ['list', ['jobs'], [['jobs', 'list']]],
    ['logs', ['pods'], [['pods/log', 'get']]],
    ['events', ['pods'], [['events', 'list']]],
    ['scale', ['deployments', 'statefulsets', 'pods'], [['deployments/scale', 'patch'], ['statefulsets/scale', 'patch']]],
    ['rollout-restart', ['deployments', 'daemonsets', 'jobs'], [['deployments', 'patch'], ['daemonsets', 'patch']]],
    ['delete-pod', ['pods'], [['pods', 'delete']]],
    ['scale', ['pods'], []],
  ]
  for (const [verb, resources, expected] of VERBS) {
    it(`kubectl ${verb} on ${resources.join(',')}`, () => assert.deepEqual(kubeRulesFor(verb, resources), expected))
  }

  it('is deterministic and warns instead of guessing an account', () => {
    assert.deepEqual(generateIamPlan(POLICY, { accountId: ACCOUNT }), generateIamPlan(POLICY, { accountId: ACCOUNT }))
    const noAccount = generateIamPlan(POLICY)
    const instances = noAccount.gatewayRole.policy.Statement.find((s) => s.Sid === 'SsmSendCommandToInstances')
    assert.ok(instances?.Resource?.every((r) => r.includes(':*:') || r.includes('::')), 'expected: instances?.Resource?.every((r) => r.includes(\':*:\') || r.includes(\'::\'))')
    assert.ok(noAccount.warnings.some((w) => w.includes('--account')), 'expected: noAccount.warnings.some((w) => w.includes(\'--account\'))')
    assert.equal(noAccount.gatewayRole.trustPolicy, undefined)
  })

  it('needs no permissions when no grant reaches a connection', () => {
    const empty = generateIamPlan(policyOf({ version: 1, connections: {}, grants: [{ id: 'me', groups: ['x'], tools: ['whoami'] }] }), { accountId: ACCOUNT })
    assert.deepEqual(empty.gatewayRole.policy.Statement, [])
    assert.deepEqual(empty.eks, [])
  })
})

describe('generateIamPlan size warning', () => {
  it('warns when the gateway policy exceeds the inline policy limit', () => {
    const connections: Record<string, unknown> = {}
    const ids: string[] = []
    for (let i = 0; i < 60; i++) {
      const id = `db-${i}`
      ids.push(id)
      connections[id] = {
        kind: 'rds-data', region: 'eu-west-1', engine: 'postgres', database: 'd',
        resourceArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:some-rather-long-cluster-name-${i}`,
        secretArn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:some-rather-long-secret-name-${i}-AbCdEf`,
      }
    }
    const big = generateIamPlan(policyOf({ version: 1, connections, grants: [{ id: 'all', groups: ['x'], connections: ids, tools: ['sql_query'] }] }), { accountId: ACCOUNT })
    assert.ok(big.warnings.some((w) => /IAM allows 10240/.test(w)), JSON.stringify(big.warnings))
    const small = generateIamPlan(POLICY, { accountId: ACCOUNT })
    assert.ok(!small.warnings.some((w) => /IAM allows/.test(w)), 'expected: !small.warnings.some((w) => /IAM allows/.test(w))')
  })
})
