import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AwsTarget } from '../../src/aws/aws-clients.js'
import { createAwsClients } from '../../src/cli/aws-clients.js'

const principal = (issuer: string, subject: string) => ({ issuer, subject, groups: [], expiresAt: 0 })
const target = (roleArn: string | undefined, issuer: string, subject: string): AwsTarget => ({ region: 'us-east-1', roleArn, principal: principal(issuer, subject) })
const role = 'arn:aws:iam::111122223333:role/r'

describe('which credentials a client is cached for', () => {
  it('hands each region its own client, and each service its own', () => {
    const clients = createAwsClients({ credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }) })
    const east = target(undefined, 'i', 'alice')
    const west = { ...east, region: 'eu-west-1' }
    assert.notEqual(clients.ssm(east), clients.ssm(west))
    assert.equal(clients.ssm(west), clients.ssm({ ...west }))
    const ssm: unknown = clients.ssm(east)
    assert.notEqual(ssm, clients.eks(east))
  })

  it('hands each identity of a role its own client, and everyone the same client without a role', () => {
    const roleClients = new Map<string, number>()
    const clients = createAwsClients({
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }),
      roleCredentials: (roleArn, t) => {
        roleClients.set(t.principal.subject, (roleClients.get(t.principal.subject) ?? 0) + 1)
        return async () => ({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'y', sessionToken: 'z' })
      },
    })
    assert.equal(clients.ssm(target(undefined, 'i', 'alice')), clients.ssm(target(undefined, 'i', 'bob')))
    assert.notEqual(clients.rdsData(target(role, 'i', 'alice')), clients.rdsData(target(role, 'i', 'bob')))
    assert.equal(clients.rdsData(target(role, 'i', 'alice')), clients.rdsData(target(role, 'i', 'alice')))
    assert.deepEqual(Object.fromEntries(roleClients), { alice: 1, bob: 1 })
  })

  it('destroys the clients it drops', async () => {
    const clients = createAwsClients({
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }),
      roleCredentials: () => async () => ({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'y', sessionToken: 'z' }),
      maxCachedClients: 1,
    })
    const first = clients.rdsData(target(role, 'i', 'alice'))
    let destroyed = false
    const destroy = first.destroy.bind(first)
    first.destroy = () => {
      destroyed = true
      destroy()
    }
    clients.rdsData(target(role, 'i', 'bob'))
    assert.equal(destroyed, true)
  })

  it('keeps at most 1000 clients, dropping the least recently used', () => {
    const clients = createAwsClients({
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' }),
      roleCredentials: () => async () => ({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'y', sessionToken: 'z' }),
    })
    const first = clients.rdsData(target(role, 'i', 'user-0'))
    const busy = clients.rdsData(target(role, 'i', 'user-1'))
    for (let i = 2; i < 1000; i++) clients.rdsData(target(role, 'i', `user-${i}`))
    assert.equal(clients.rdsData(target(role, 'i', 'user-1')), busy, 'touching a client keeps it')
    clients.rdsData(target(role, 'i', 'user-1000'))
    assert.notEqual(clients.rdsData(target(role, 'i', 'user-0')), first, 'the least recently used was dropped')
    assert.equal(clients.rdsData(target(role, 'i', 'user-1')), busy)
  })
})
