import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { iamPolicyCommand } from '../../src/cli/iam-policy-command.js'
import type { CliIo } from '../../src/cli/cli-io.js'

interface Captured extends CliIo {
  readonly out: string[]
  readonly err: string[]
}
function capture(cwd: string, env: Record<string, string | undefined> = {}): Captured {
  const out: string[] = []
  const err: string[] = []
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd, env }
}

const POLICY = {
  version: 1,
  connections: {
    orders: {
      kind: 'rds-data',
      region: 'eu-west-1',
      engine: 'postgres',
      database: 'orders',
      resourceArn: 'arn:aws:rds:eu-west-1:111122223333:cluster:orders',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-rw',
    },
    k8s: { kind: 'eks', region: 'eu-west-1', cluster: 'prod' },
  },
  grants: [
    { id: 'read', groups: ['dba'], connections: ['orders'], tools: ['sql_query'] },
    { id: 'kube', groups: ['sre'], connections: ['k8s'], tools: ['kubectl'], kubectl: { verbs: ['get'], resources: ['pods'], namespaces: ['shop'] } },
  ],
}

describe('airlock iam-policy', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-iam-cmd-'))
    await writeFile(join(dir, 'policy.json'), JSON.stringify(POLICY))
    await writeFile(join(dir, 'broken.json'), JSON.stringify({ version: 1, grants: [{ id: 'x', groups: ['a'], connections: ['nope'], tools: ['sql_query'] }] }))
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('prints the plan as JSON', async () => {
    const io = capture(dir)
    const code = await iamPolicyCommand(
      ['--policy', 'policy.json', '--account', '111122223333', '--oidc-provider-arn', 'arn:aws:iam::111122223333:oidc-provider/oidc.example/id/1', '--service-account', 'tools:gw'],
      io,
    )
    assert.equal(code, 0, io.err.join(''))
    const plan = JSON.parse(io.out.join('')) as { gatewayRole: { policy: { Statement: { Sid: string }[] }; trustPolicy: { Statement: { Condition: { StringEquals: Record<string, string> } }[] } } }
    assert.deepEqual(plan.gatewayRole.policy.Statement.map((s) => s.Sid), ['RdsDataApi', 'RdsDataSecrets', 'EksDescribeCluster'])
    assert.equal(plan.gatewayRole.trustPolicy.Statement[0]?.Condition.StringEquals['oidc.example/id/1:sub'], 'system:serviceaccount:tools:gw')
  })

  it('reads AIRLOCK_POLICY when --policy is absent, and warns about what it cannot generate', async () => {
    const io = capture(dir, { AIRLOCK_POLICY: 'policy.json' })
    assert.equal(await iamPolicyCommand([], io), 0)
    assert.match(io.err.join(''), /warning: .*--oidc-provider-arn/)
  })

  it('prints Terraform with jsonencode policies, access entries and RBAC manifests', async () => {
    const io = capture(dir)
    const code = await iamPolicyCommand(
      ['--policy', 'policy.json', '--format', 'terraform', '--account', '111122223333', '--oidc-provider-arn', 'arn:aws:iam::111122223333:oidc-provider/oidc.example/id/1'],
      io,
    )
    assert.equal(code, 0)
    const hcl = io.out.join('')
    assert.match(hcl, /resource "aws_iam_role" "airlock_gateway" \{\n  name               = "airlock-gateway"\n  assume_role_policy = jsonencode\(\{/)
    assert.match(hcl, /resource "aws_iam_role_policy" "airlock_gateway" \{[\s\S]*"rds-data:ExecuteStatement"/)
    assert.match(hcl, /resource "aws_eks_access_entry" "airlock_k8s" \{[\s\S]*kubernetes_groups = \["airlock-k8s"\]/)
    assert.match(hcl, /resource "kubernetes_manifest" "airlock_k8s_0" \{\n  manifest = \{/)
  })

  it('exits 1 naming the file when the policy is invalid', async () => {
    const io = capture(dir)
    assert.equal(await iamPolicyCommand(['--policy', 'broken.json'], io), 1)
    assert.match(io.err.join(''), /^broken\.json: grants\[0\]/)
    assert.equal(io.out.join(''), '')
    const missing = capture(dir)
    assert.equal(await iamPolicyCommand(['--policy', 'absent.json'], missing), 1)
    assert.match(missing.err.join(''), /absent\.json: no such file/)
  })

  const USAGE_ERRORS: string[][] = [
    ['--format', 'yaml'],
    ['--account', '12345'],
    ['--oidc-provider-arn', 'arn:aws:iam::111122223333:role/x'],
    ['--service-account', 'no-colon'],
    ['--gateway-role-arn', 'role/x'],
    ['--unknown'],
    ['positional'],
  ]
  for (const argv of USAGE_ERRORS) {
    it(`exits 2 on ${argv.join(' ')}`, async () => {
      const io = capture(dir)
      assert.equal(await iamPolicyCommand(['--policy', 'policy.json', ...argv], io), 2)
      assert.match(io.err.join(''), /usage: airlock iam-policy/)
    })
  }
})
