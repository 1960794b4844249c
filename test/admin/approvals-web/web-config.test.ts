import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gatewayConfigSchema } from '../../../src/config.js'

describe('approvals.web configuration', () => {
  const base = { issuer: 'https://idp.example.com', policy: ['policies/demo.json'], audit: { path: '/tmp/a.jsonl' } }
  const web = { clientId: 'airlock-approvals', redirectUrl: 'https://airlock-admin.example.com/approvals/callback' }

  it('is off by default, and takes a client with defaults for the session and scopes', () => {
    assert.equal(gatewayConfigSchema.parse(base).approvals.web, undefined)
    assert.deepEqual(gatewayConfigSchema.parse({ ...base, approvals: { web } }).approvals.web, { ...web, sessionMinutes: 15, scopes: [] })
    const loopback = { ...web, redirectUrl: 'http://127.0.0.1:9464/approvals/callback', clientSecretFile: '/etc/airlock/s' }
    assert.equal(gatewayConfigSchema.parse({ ...base, approvals: { web: loopback } }).approvals.web?.clientSecretFile, '/etc/airlock/s')
  })

  const invalid: [string, unknown][] = [
    ['plain http off loopback', { ...web, redirectUrl: 'http://airlock-admin.example.com/approvals/callback' }],
    ['a redirect elsewhere than /approvals/callback', { ...web, redirectUrl: 'https://airlock-admin.example.com/callback' }],
    ['no client id', { redirectUrl: web.redirectUrl }],
    ['an unknown key', { ...web, clientSecret: 'inline' }],
    ['a session over 8 hours', { ...web, sessionMinutes: 481 }],
    ['a scope with a space', { ...web, scopes: ['a b'] }],
  ]
  for (const [name, value] of invalid) {
    it(`refuses ${name}`, () => {
      assert.equal(gatewayConfigSchema.safeParse({ ...base, approvals: { web: value } }).success, false, name)
    })
  }
})
