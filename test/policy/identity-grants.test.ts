import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { evaluate } from '../../src/policy/evaluate.js'
import { identityGrants, MAX_IDENTITIES, MAX_TOOLS } from '../../src/policy/identity-grants.js'
import { policyOf } from './policy-fixture.js'

const policy = policyOf({
  version: 1,
  grants: [
    { id: 'by-group', groups: ['sre'], tools: ['whoami'], ttl: '1h' },
    { id: 'by-subject', subjects: ['alice'], tools: ['whoami', 'list_connections'], ttl: '1h' },
    { id: 'joined-group', groups: ['b\u0000c'], tools: ['whoami'], ttl: '1h' },
    { id: 'split-groups', groups: ['c'], tools: ['list_connections'], ttl: '1h' },
  ],
})
const ids = (grants: readonly { id: string }[]) => grants.map((g) => g.id)

describe('identityGrants', () => {
  it('lists the grants that match by group or by subject, in policy order, and those naming a tool', () => {
    const alice = identityGrants(policy, { subject: 'alice', groups: ['sre'] })
    assert.deepEqual(ids(alice.all), ['by-group', 'by-subject'])
    assert.deepEqual(ids(alice.forTool('list_connections')), ['by-subject'])
    assert.deepEqual(ids(alice.forTool('kubectl')), [])
    assert.deepEqual(ids(identityGrants(policy, { subject: 'bob', groups: ['ops'] }).all), [])
  })

  it('answers the same identity asked again the same, and keeps identities apart that a separator would merge', () => {
    const first = identityGrants(policy, { subject: 'alice', groups: ['sre'] })
    assert.equal(identityGrants(policy, { subject: 'alice', groups: ['sre'] }), first, 'asked again, answered from memory')
    // One group named "b\0c" and two groups "b", "c" must not share an answer.
    const joined = identityGrants(policy, { subject: 'x', groups: ['b\u0000c'] })
    const split = identityGrants(policy, { subject: 'x', groups: ['b', 'c'] })
    assert.deepEqual(ids(joined.all), ['joined-group'])
    assert.deepEqual(ids(split.all), ['split-groups'])
    // A subject that looks like a group list is still only a subject.
    assert.deepEqual(ids(identityGrants(policy, { subject: 'sre', groups: [] }).all), [])
    assert.deepEqual(ids(identityGrants(policy, { groups: ['sre'] }).all), ['by-group'])
  })

  it('answers a reloaded policy from that policy, not from what the old one matched', () => {
    const caller = { subject: 'alice', groups: ['sre'] }
    assert.equal(evaluate(policy, caller, { tool: 'whoami', connectionKinds: [] }, 0).allow, true)
    const reloaded = policyOf({ version: 1, grants: [{ id: 'other', groups: ['ops'], tools: ['whoami'], ttl: '1h' }] })
    const decision = evaluate(reloaded, caller, { tool: 'whoami', connectionKinds: [] }, 0)
    assert.equal(decision.allow, false)
    assert.deepEqual(ids(identityGrants(reloaded, caller).all), [])
  })

  it('stays correct for more tool names and identities than it remembers', () => {
    const caller = { subject: 'alice', groups: ['sre'] }
    for (let i = 0; i < 200; i++) assert.deepEqual(ids(identityGrants(policy, caller).forTool(`unknown-${i}`)), [], `tool unknown-${i}`)
    assert.deepEqual(ids(identityGrants(policy, caller).forTool('whoami')), ['by-group', 'by-subject'])
    for (let i = 0; i < 10_050; i++) identityGrants(policy, { subject: `s-${i}`, groups: [] })
    assert.deepEqual(ids(identityGrants(policy, { subject: 'alice', groups: [] }).all), ['by-subject'])
    assert.deepEqual(ids(identityGrants(policy, { subject: 's-3', groups: ['sre'] }).all), ['by-group'])
  })

  it('remembers at most MAX_TOOLS tool names per identity: later names are answered, not kept', () => {
    const own = policyOf({ version: 1, grants: [{ id: 'g', groups: ['sre'], tools: ['whoami'], ttl: '1h' }] })
    const mine = identityGrants(own, { subject: 'tools', groups: ['sre'] })
    const first = mine.forTool('whoami')
    assert.equal(mine.forTool('whoami'), first, 'a tool asked again is answered from memory')
    for (let i = 1; i < MAX_TOOLS; i++) mine.forTool(`unknown-${i}`)
    assert.equal(mine.forTool(`unknown-${MAX_TOOLS - 1}`), mine.forTool(`unknown-${MAX_TOOLS - 1}`), 'the last name that fits is kept')
    const past = `unknown-${MAX_TOOLS}`
    assert.notEqual(mine.forTool(past), mine.forTool(past), 'a name past the limit is worked out each time, not kept')
    assert.deepEqual(ids(mine.forTool(past)), [])
    assert.equal(mine.forTool('whoami'), first)
  })

  it('remembers at most MAX_IDENTITIES identities per policy, then starts over', () => {
    const own = policyOf({ version: 1, grants: [{ id: 'g', groups: ['sre'], tools: ['whoami'], ttl: '1h' }] })
    const first = identityGrants(own, { subject: 'i-0', groups: ['sre'] })
    for (let i = 1; i < MAX_IDENTITIES; i++) identityGrants(own, { subject: `i-${i}`, groups: [] })
    assert.equal(identityGrants(own, { subject: 'i-0', groups: ['sre'] }), first, 'the memory holds MAX_IDENTITIES identities')
    assert.equal(identityGrants(own, { subject: `i-${MAX_IDENTITIES - 1}`, groups: [] }), identityGrants(own, { subject: `i-${MAX_IDENTITIES - 1}`, groups: [] }))
    identityGrants(own, { subject: 'one-more', groups: [] })
    const again = identityGrants(own, { subject: 'i-0', groups: ['sre'] })
    assert.notEqual(again, first, 'one identity more and the memory started over')
    assert.deepEqual(ids(again.all), ['g'])
  })
})
