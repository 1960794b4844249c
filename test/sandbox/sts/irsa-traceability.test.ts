import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DescribeClusterCommand } from '@aws-sdk/client-eks'
import { STSClient } from '@aws-sdk/client-sts'
import type { AwsTarget } from '../../../src/aws/aws-clients.js'
import { gatewayCredentials } from '../../../src/aws/gateway-credentials.js'
import { createRoleCredentials } from '../../../src/aws/role-credentials.js'
import { createAwsClients } from '../../../src/cli/create-aws-clients.js'
import { startEksEmulator, type EksEmulator } from '../../../src/sandbox/eks/start-eks-emulator.js'
import { CONNECTION_ROLE, startStsFixture, type StsFixture } from './sts-fixture.js'
import { createTeardown } from '../../support/teardown.js'

// The gateway as deployed on EKS with IRSA: no access key anywhere, a projected token file, and
// every AWS call attributed to the gateway role, or to a connection role tagged with the agent.
describe('IRSA end to end: every AWS call traceable to the gateway and the agent', () => {
  let fx: StsFixture
  let eks: EksEmulator
  let sts: STSClient
  const saved = { ...process.env }
  const teardown = createTeardown()
  before(async () => {
    teardown.add(() => { process.env = saved })
    fx = await startStsFixture()
    teardown.add(() => fx.close())
    eks = await startEksEmulator({
      store: fx.store,
      trail: fx.trail,
      clock: fx.clock,
      clusters: [{ name: 'prod', region: 'eu-west-1', endpoint: 'https://127.0.0.1:1', caPem: '' }],
    })
    teardown.add(() => eks.close())
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete process.env[key]
    process.env['AWS_CONFIG_FILE'] = join(fx.dir, 'no-config')
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(fx.dir, 'no-credentials')
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true'
    teardown.add(() => sts?.destroy())
  })
  after(() => teardown.run())

  it('attributes direct calls to the gateway role and per-connection calls to the agent', async () => {
    const env = {
      AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/airlock-gateway',
      AWS_WEB_IDENTITY_TOKEN_FILE: fx.issuer.tokenFile,
      AWS_ENDPOINT_URL_STS: fx.sts.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ROLE_SESSION_NAME: 'airlock-gateway',
    }
    const credentials = gatewayCredentials(env)
    sts = new STSClient({ region: 'eu-west-1', endpoint: fx.sts.endpoint, credentials, maxAttempts: 1 })
    const clients = createAwsClients({
      credentials,
      endpoints: { eks: eks.endpoint },
      roleCredentials: createRoleCredentials({ sts, clock: fx.clock }),
      maxAttempts: 1,
    })
    const principal = { issuer: 'https://idp.example.com', subject: 'alice@example.com', groups: ['sre'], expiresAt: 0 }
    const direct: AwsTarget = { region: 'eu-west-1', principal }
    const viaRole: AwsTarget = { region: 'eu-west-1', roleArn: CONNECTION_ROLE, principal }

    await clients.eks(direct).send(new DescribeClusterCommand({ name: 'prod' }))
    const gatewayCall = fx.trail.entries().filter((e) => e.service === 'eks').at(-1)
    assert.equal(gatewayCall?.principalArn, 'arn:aws:sts::111122223333:assumed-role/airlock-gateway/airlock-gateway')
    assert.equal(gatewayCall?.sourceIdentity, undefined)

    await clients.eks(viaRole).send(new DescribeClusterCommand({ name: 'prod' }))
    const agentCall = fx.trail.entries().filter((e) => e.service === 'eks').at(-1)
    assert.equal(agentCall?.principalArn, 'arn:aws:sts::111122223333:assumed-role/airlock-orders-db/airlock-alice@example.com')
    assert.equal(agentCall?.sourceIdentity, 'alice@example.com')
    assert.equal(agentCall?.outcome, 'ok')

    // The chain in the trail: web identity → gateway role → AssumeRole with the agent's SourceIdentity.
    const actions = fx.trail.entries().filter((e) => e.service === 'sts' && e.outcome === 'ok').map((e) => e.action)
    assert.deepEqual(actions, ['AssumeRoleWithWebIdentity', 'AssumeRole'])
  })
})
