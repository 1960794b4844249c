import assert from 'node:assert/strict'
import { buildPolicy } from '../../src/policy/build-policy.js'
import type { PolicyFileInput } from '../../src/policy/policy-schema.js'
import type { Policy } from '../../src/policy/policy.js'

/** Builds a policy from inline documents, failing the test with every issue if it does not validate. */
export function policyOf(...files: PolicyFileInput[]): Policy {
  const result = buildPolicy(files.map((data, i) => ({ source: `p${i}.json`, data })))
  if (!result.ok) assert.fail(result.issues.map((i) => `${i.source}: ${i.path}: ${i.message}`).join('\n'))
  return result.policy
}

export const rds = {
  kind: 'rds-data',
  region: 'us-east-1',
  engine: 'postgres',
  database: 'orders',
  resourceArn: 'arn:aws:rds:us-east-1:111122223333:cluster:demo-orders',
  secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:demo-orders-rw-Ab12Cd',
} as const

export const ssm = { kind: 'ssm' as const, region: 'us-east-1', instanceIds: ['i-0a1b2c3d4e5f60001'] }
export const eks = { kind: 'eks', region: 'us-east-1', cluster: 'demo' } as const
