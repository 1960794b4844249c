import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { IamPolicyDocument } from '../../src/access-plan/generate-iam-plan.js'
import { compareRolePolicy } from '../../src/posture/compare-role-policy.js'

const CLUSTER = 'arn:aws:rds:eu-west-1:111122223333:cluster:orders'
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-ro'
const EXPECTED: IamPolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'RdsDataApi', Effect: 'Allow', Action: ['rds-data:ExecuteStatement', 'rds-data:BeginTransaction'], Resource: [CLUSTER] },
    { Sid: 'RdsDataSecrets', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [SECRET] },
    {
      Sid: 'Tagged',
      Effect: 'Allow',
      Action: ['ssm:SendCommand'],
      Resource: ['arn:aws:ec2:eu-west-1:111122223333:instance/*'],
      Condition: { StringEquals: { 'ssm:resourceTag/role': ['web'] } },
    },
    { Sid: 'Results', Effect: 'Allow', Action: ['ssm:GetCommandInvocation'], Resource: ['*'] },
  ],
}
const exact = () => JSON.parse(JSON.stringify(EXPECTED)) as unknown

describe('compareRolePolicy', () => {
  it('passes the generated policy itself and a single-statement object form', () => {
    assert.deepEqual(compareRolePolicy(exact(), EXPECTED, 'role.json').map((c) => c.status), ['PASS'])
    const narrower = { Statement: { Effect: 'Allow', Action: 'rds-data:ExecuteStatement', Resource: CLUSTER } }
    const checks = compareRolePolicy(narrower, EXPECTED, 'role.json')
    assert.ok(!checks.some((c) => c.status === 'FAIL'), 'expected: !checks.some((c) => c.status === \'FAIL\')')
    assert.ok(checks.some((c) => c.status === 'WARN' && c.id === 'role-policy.missing'), 'expected: checks.some((c) => c.status === \'WARN\' && c.id === \'role-policy.missing\')')
  })

  const FAILING: Array<[string, unknown, string]> = [
    ['admin wildcard', { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }, 'role-policy.wildcard-action'],
    ['service wildcard', { Statement: [{ Effect: 'Allow', Action: 'rds-data:*', Resource: CLUSTER }] }, 'role-policy.wildcard-action'],
    ['prefix wildcard', { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:Get*', Resource: SECRET }] }, 'role-policy.wildcard-action'],
    ['resource star', { Statement: [{ Effect: 'Allow', Action: 'rds-data:ExecuteStatement', Resource: '*' }] }, 'role-policy.wildcard-resource'],
    ['resource pattern', { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:*' }] }, 'role-policy.resource-scope'],
    ['other cluster', { Statement: [{ Effect: 'Allow', Action: 'rds-data:ExecuteStatement', Resource: 'arn:aws:rds:eu-west-1:111122223333:cluster:payroll' }] }, 'role-policy.resource-scope'],
    ['extra action', { Statement: [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*' }] }, 'role-policy.extra-action'],
    ['NotAction', { Statement: [{ Effect: 'Allow', NotAction: 'iam:*', Resource: CLUSTER }] }, 'role-policy.not-action'],
    ['NotResource', { Statement: [{ Effect: 'Allow', Action: 'rds-data:ExecuteStatement', NotResource: SECRET }] }, 'role-policy.not-resource'],
    ['tag condition dropped', { Statement: [{ Effect: 'Allow', Action: 'ssm:SendCommand', Resource: 'arn:aws:ec2:eu-west-1:111122223333:instance/*' }] }, 'role-policy.condition'],
    ['not a policy', { Version: '2012-10-17' }, 'role-policy.invalid'],
    ['bad effect', { Statement: [{ Effect: 'allow', Action: 'x:y', Resource: '*' }] }, 'role-policy.invalid'],
  ]
  for (const [name, doc, id] of FAILING) {
    it(`fails: ${name}`, () => {
      const checks = compareRolePolicy(doc, EXPECTED, 'role.json')
      assert.ok(checks.some((c) => c.status === 'FAIL' && c.id === id), JSON.stringify(checks))
      assert.ok(!checks.some((c) => c.status === 'PASS'), 'expected: !checks.some((c) => c.status === \'PASS\')')
    })
  }

  it('ignores Deny statements and accepts "*" where the generated policy needs it', () => {
    const doc = {
      Statement: [
        ...EXPECTED.Statement.map((s) => ({ ...s })),
        { Effect: 'Deny', Action: '*', Resource: '*' },
      ],
    }
    assert.deepEqual(compareRolePolicy(doc, EXPECTED, 'role.json').map((c) => c.status), ['PASS'])
  })

  it('treats action names case-insensitively, as IAM does', () => {
    const doc = { Statement: [{ Effect: 'Allow', Action: ['RDS-DATA:executestatement'], Resource: [CLUSTER] }] }
    assert.ok(!compareRolePolicy(doc, EXPECTED, 'role.json').some((c) => c.status === 'FAIL'), 'expected: !compareRolePolicy(doc, EXPECTED, \'role.json\').some((c) => c.status === \'FAIL\')')
  })
})
