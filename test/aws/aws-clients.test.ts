import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { awsIdentity, type AwsTarget } from '../../src/aws/aws-clients.js'
import { cacheKeyText } from '../../src/aws/bounded-cache.js'

describe('awsIdentity, the key of every identity-keyed cache', () => {
  const principal = (issuer: string, subject: string) => ({ issuer, subject, groups: [], expiresAt: 0 })
  const target = (region: string, roleArn: string | undefined, issuer: string, subject: string): AwsTarget => ({ region, roleArn, principal: principal(issuer, subject) })
  const role = 'arn:aws:iam::111122223333:role/r'
  const key = (t: AwsTarget): string => cacheKeyText(awsIdentity(t))

  it('differs when the region, the role, the issuer or the subject differs', () => {
    const base = target('us-east-1', role, 'https://idp', 'alice')
    const variants = [
      target('eu-west-1', role, 'https://idp', 'alice'),
      target('us-east-1', `${role}2`, 'https://idp', 'alice'),
      target('us-east-1', role, 'https://idp2', 'alice'),
      target('us-east-1', role, 'https://idp', 'bob'),
      target('us-east-1', undefined, 'https://idp', 'alice'),
    ]
    for (const variant of variants) assert.notEqual(key(variant), key(base), JSON.stringify(awsIdentity(variant)))
    assert.equal(new Set(variants.map(key)).size, variants.length)
  })

  it('cannot be forged by moving separators between issuer and subject', () => {
    assert.notEqual(key(target('us-east-1', role, 'https://a|b', 'c')), key(target('us-east-1', role, 'https://a', 'b|c')))
    assert.notEqual(key(target('us-east-1', role, 'https://a","b', 'c')), key(target('us-east-1', role, 'https://a', 'b","c')))
  })

  it('is shared by every principal on the gateway’s own credentials, per region', () => {
    assert.equal(key(target('us-east-1', undefined, 'https://idp', 'alice')), key(target('us-east-1', undefined, 'https://other', 'bob')))
    assert.notEqual(key(target('us-east-1', undefined, 'https://idp', 'alice')), key(target('eu-west-1', undefined, 'https://idp', 'alice')))
  })
})
